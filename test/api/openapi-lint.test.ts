import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createWebTestApp, type WebTestApp } from '../helpers/web-client.js';

let web: WebTestApp;
beforeAll(async () => {
  web = await createWebTestApp();
});
afterAll(async () => web?.close());

test('the served /openapi.json passes redocly lint (recommended rules) with no errors and no warnings (issue 21.3)', async () => {
  const document = (await web.app.inject({ url: '/openapi.json' })).body;
  const file = join(mkdtempSync(join(tmpdir(), 'sparekey-openapi-')), 'openapi.json');
  writeFileSync(file, document);
  const lint = spawnSync(
    process.execPath,
    [
      join(import.meta.dirname, '../../node_modules/@redocly/cli/bin/cli.js'),
      'lint',
      file,
      '--format=summary',
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    },
  );
  const output = `${lint.stdout}${lint.stderr}`;
  expect(output, output).not.toMatch(/^error\s/m);
  // Warnings too: an ambiguous path (e.g. `/users/{userId}/recovery-codes` beside `/users/by-email/{email}`)
  // is only a warning, and it is exactly what makes a generated client call the wrong operation.
  expect(output, output).not.toMatch(/^warning\s/m);
  expect(output, output).toMatch(/Your API description is valid/);
  expect(output, output).not.toMatch(/You have \d+ warnings?/);
  expect(lint.status, output).toBe(0);
}, 60_000);
