import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createServiceDeps } from '../../src/compose.js';
import { loadConfig } from '../../src/config/load-config.js';
import { addWebhookEndpoint } from '../../src/service/webhooks/webhooks.js';
import { createTestEnvironment, type TestEnvironment } from '../helpers/service-deps.js';

/** SPAREKEY_WEBHOOK_ALLOW_HTTP_LOOPBACK, from the environment to what an administrator may add. */
let env: TestEnvironment;
beforeAll(async () => {
  env = await createTestEnvironment('sqlite');
});
afterAll(async () => env?.close());

const configWith = (value?: string) => {
  const loaded = loadConfig({
    SPAREKEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'sparekey-config-')),
    SPAREKEY_SECRET: Buffer.alloc(32, 9).toString('base64'),
    ...(value === undefined ? {} : { SPAREKEY_WEBHOOK_ALLOW_HTTP_LOOPBACK: value }),
  });
  return loaded;
};

async function addLocalEndpoint(value?: string) {
  const loaded = configWith(value);
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  // The production composition (src/compose.ts) over the test database.
  const deps = createServiceDeps(loaded.config, env.deps.store);
  return addWebhookEndpoint(deps, { url: 'http://127.0.0.1:8080/hook', events: ['mfa.locked'], context: {} });
}

test('off by default: a plain http endpoint on this machine is refused, and the message says how to allow it', async () => {
  expect(await addLocalEndpoint()).toEqual({
    ok: false,
    problem: expect.stringContaining('SPAREKEY_WEBHOOK_ALLOW_HTTP_LOOPBACK=on'),
  });
  expect(await addLocalEndpoint('off')).toMatchObject({ ok: false });
});

test('on (a development server): it is accepted; anything but on/off stops the start', async () => {
  expect(await addLocalEndpoint('on')).toMatchObject({ ok: true });
  const wrong = configWith('yes');
  expect(wrong.ok).toBe(false);
  expect(!wrong.ok && wrong.problems).toContain(
    'SPAREKEY_WEBHOOK_ALLOW_HTTP_LOOPBACK must be "on" or "off".',
  );
});
