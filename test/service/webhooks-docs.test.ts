import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { deriveServerKeys } from '../../src/core/server-keys.js';
import {
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_REPLAY_WINDOW_SECONDS,
  webhookRetryDelayMs,
} from '../../src/core/webhook.js';
import {
  addWebhookEndpoint,
  deliverDueWebhooks,
  emitWebhookEvent,
  removeWebhookEndpoint,
  webhookSecret,
} from '../../src/service/webhooks/webhooks.js';
import { createTestEnvironment, type TestEnvironment } from '../helpers/service-deps.js';
import {
  opensslAvailable,
  type RecipeCase,
  runNodeRecipe,
  runShellRecipe,
} from '../helpers/webhook-doc-recipe.js';
import {
  type ReceivedWebhook,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../helpers/webhook-receiver.js';

/** docs/webhooks.md says what a receiver must do; these tests run what it says against real deliveries. */
let env: TestEnvironment;
let receiver: WebhookReceiver;
let secret: string;
/** The secret of an endpoint removed before: what a receiver holding a leaked, replaced secret has. */
let replacedSecret: string;
let captured: ReceivedWebhook[];

beforeAll(async () => {
  env = await createTestEnvironment('sqlite');
  env.deps.options.webhookAllowHttpLoopback = true;
  receiver = await startWebhookReceiver({ downFor: 1 });
  const add = async () => {
    const added = await addWebhookEndpoint(env.deps, {
      url: receiver.url,
      events: ['mfa.locked', 'recovery_code.used'],
      context: {},
    });
    if (!added.ok) throw new Error(added.problem);
    return added;
  };
  const first = await add();
  replacedSecret = first.secret;
  await removeWebhookEndpoint(env.deps, { endpointId: first.endpoint.id, context: {} });
  secret = (await add()).secret;
  // Non-ASCII in the body, so a recipe that hashed characters instead of bytes would fail.
  for (const type of ['mfa.locked', 'recovery_code.used'] as const) {
    await env.deps.store.transaction((tx) =>
      emitWebhookEvent(env.deps, tx, {
        type,
        at: env.clock.now(),
        userId: null,
        context: { ip: '198.51.100.7' },
        data: { note: 'Zoë — ✓ 日本' },
      }),
    );
  }
  await deliverDueWebhooks(env.deps);
  env.clock.advance(10_000);
  await deliverDueWebhooks(env.deps);
  // One refused (503) and then two accepted: retries are signed with their own timestamp.
  expect(receiver.received.map((r) => r.answered).sort()).toEqual([200, 200, 503]);
  captured = receiver.received;
});
afterAll(async () => {
  await receiver?.close();
  await env?.close();
});

const timestampOf = (request: ReceivedWebhook) => Number(request.headers['sparekey-webhook-timestamp']);

describe('the Node.js recipe of docs/webhooks.md, run with plain node', () => {
  test('accepts every genuine delivery, at either edge of the replay window', async () => {
    const cases: RecipeCase[] = captured.flatMap((request) =>
      [0, WEBHOOK_REPLAY_WINDOW_SECONDS, -WEBHOOK_REPLAY_WINDOW_SECONDS].map((offset) => ({
        secret,
        headers: request.headers,
        body: request.body,
        nowSeconds: timestampOf(request) + offset,
      })),
    );
    expect(await runNodeRecipe(cases)).toEqual(cases.map(() => true));
  });

  test('refuses a changed body, a wrong or replaced secret, a changed timestamp and one outside the window', async () => {
    const [request] = captured;
    if (!request) throw new Error('no delivery captured');
    const ts = timestampOf(request);
    const flipped = Buffer.from(request.body);
    flipped[flipped.length - 2] = (flipped[flipped.length - 2] as number) ^ 1;
    const refused: Record<string, RecipeCase> = {
      'one byte of the body changed': { secret, headers: request.headers, body: flipped, nowSeconds: ts },
      'a space appended to the body': {
        secret,
        headers: request.headers,
        body: Buffer.concat([request.body, Buffer.from(' ')]),
        nowSeconds: ts,
      },
      'the replaced (leaked) secret': {
        secret: replacedSecret,
        headers: request.headers,
        body: request.body,
        nowSeconds: ts,
      },
      'the secret without its whsec_ prefix': {
        secret: secret.slice('whsec_'.length),
        headers: request.headers,
        body: request.body,
        nowSeconds: ts,
      },
      'a replay re-stamped with a fresh timestamp': {
        secret,
        headers: { ...request.headers, 'sparekey-webhook-timestamp': String(ts + 600) },
        body: request.body,
        nowSeconds: ts + 600,
      },
      'a timestamp 301 s old': { secret, headers: request.headers, body: request.body, nowSeconds: ts + 301 },
      'a timestamp 301 s ahead': {
        secret,
        headers: request.headers,
        body: request.body,
        nowSeconds: ts - 301,
      },
      'no signature header': {
        secret,
        headers: { ...request.headers, 'sparekey-webhook-signature': undefined },
        body: request.body,
        nowSeconds: ts,
      },
    };
    const results = await runNodeRecipe(Object.values(refused));
    expect(Object.fromEntries(Object.keys(refused).map((name, i) => [name, results[i]]))).toEqual(
      Object.fromEntries(Object.keys(refused).map((name) => [name, false])),
    );
  });
});

describe.skipIf(!opensslAvailable)('the shell recipe of docs/webhooks.md, run with sh and openssl', () => {
  test('prints valid for a genuine delivery, INVALID for a changed body or a wrong secret', async () => {
    for (const request of captured) {
      expect(await runShellRecipe({ secret, headers: request.headers, body: request.body })).toBe(true);
    }
    const [request] = captured as [ReceivedWebhook];
    expect(
      await runShellRecipe({
        secret,
        headers: request.headers,
        body: Buffer.concat([request.body, Buffer.from(' ')]),
      }),
    ).toBe(false);
    expect(
      await runShellRecipe({ secret: replacedSecret, headers: request.headers, body: request.body }),
    ).toBe(false);
  });
});

test('the key is the whole whsec_ string as UTF-8 bytes, not a base64 decoding of it (docs: the signing secret)', () => {
  const [request] = captured as [ReceivedWebhook];
  const signWith = (key: Buffer) =>
    `v1=${createHmac('sha256', key)
      .update(`${timestampOf(request)}.`)
      .update(request.body)
      .digest('hex')}`;
  const signature = request.headers['sparekey-webhook-signature'];
  expect(signWith(Buffer.from(secret, 'utf8'))).toBe(signature);
  // What a Standard Webhooks / Svix library would key with.
  expect(signWith(Buffer.from(secret.slice('whsec_'.length), 'base64'))).not.toBe(signature);
});

test('changing the server secret changes every endpoint signing secret (docs: the signing secret)', () => {
  const endpointId = '3a5c8f9e-0000-4000-8000-000000000001';
  const other = { ...env.deps, keys: deriveServerKeys(new Uint8Array(32).fill(9)) };
  expect(webhookSecret(other, endpointId)).not.toBe(webhookSecret(env.deps, endpointId));
  expect(webhookSecret(env.deps, endpointId)).toBe(webhookSecret({ ...env.deps }, endpointId));
});

test('the retry schedule table of docs/webhooks.md is the one in the code', () => {
  const doc = readFileSync(new URL('../../docs/webhooks.md', import.meta.url), 'utf8');
  const table = doc.slice(doc.indexOf('### Retry schedule'));
  const rows = [...table.matchAll(/^\| (\d+) \| (—|\d+ s) \| (\d+) s[^|]*\|$/gm)].map((row) => ({
    attempt: Number(row[1]),
    waitSeconds: row[2] === '—' ? null : Number.parseInt(row[2] as string, 10),
    sinceFirstSeconds: Number(row[3]),
  }));
  let since = 0;
  const expected = Array.from({ length: WEBHOOK_MAX_ATTEMPTS }, (_, i) => {
    const wait = i === 0 ? null : webhookRetryDelayMs(i) / 1000;
    since += wait ?? 0;
    return { attempt: i + 1, waitSeconds: wait, sinceFirstSeconds: since };
  });
  expect(rows).toEqual(expected);
});
