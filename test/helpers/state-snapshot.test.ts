import { sql } from 'kysely';
import { afterEach, describe, expect, test } from 'vitest';
import { rememberDevice } from '../../src/service/sessions/remembered-devices.js';
import { addWebhookEndpoint } from '../../src/service/webhooks/webhooks.js';
import { testEngines } from './engines.js';
import { enableTotp } from './mfa.js';
import { createTestEnvironment, createTestUser, type TestEnvironment } from './service-deps.js';
import { COMPARED_TABLE_NAMES, stateSnapshot, UNCOMPARED_TABLES } from './state-snapshot.js';

async function tablesOf(env: TestEnvironment): Promise<string[]> {
  const found =
    env.engine === 'sqlite'
      ? await sql<{ name: string }>`
          select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(
          env.opened.db,
        )
      : await sql<{ name: string }>`
          select table_name as name from information_schema.tables where table_schema = ${env.location}`.execute(
          env.opened.db,
        );
  return found.rows.map((row) => row.name).sort();
}

/**
 * The "a refusal changes nothing" checks (fuzz, CSRF, step-up, password reset) are only as good as the
 * snapshot they compare: it must see every table, and a change in any of them.
 */
describe.each(testEngines())('the state snapshot on %s', (engine) => {
  let env: TestEnvironment;
  afterEach(async () => env?.close());

  test('covers every table the migrations create, or leaves it out by name', async () => {
    env = await createTestEnvironment(engine);
    const tables = await tablesOf(env);
    expect(tables.length).toBeGreaterThan(15);
    // A compared table that does not exist fails every snapshot; a table in neither list fails here.
    const named = new Set<string>([...COMPARED_TABLE_NAMES, ...UNCOMPARED_TABLES]);
    expect(tables.filter((table) => !named.has(table))).toEqual([]);
    expect(COMPARED_TABLE_NAMES.filter((table) => !tables.includes(table))).toEqual([]);
  });

  test('sees a new remembered browser, webhook endpoint, emailed code and a last use of a factor', async () => {
    env = await createTestEnvironment(engine);
    const user = await createTestUser(env);
    await enableTotp(env, user.id);
    const changes: [string, () => Promise<unknown>][] = [
      ['a remembered browser', () => rememberDevice(env.deps, { userId: user.id, context: {} })],
      [
        'a webhook endpoint',
        () =>
          addWebhookEndpoint(env.deps, {
            url: 'https://hooks.example.test/snapshot',
            events: ['mfa.locked'],
            context: {},
          }),
      ],
      [
        'an emailed code',
        () =>
          env.deps.store.replaceEmailOtpChallenge({
            id: env.deps.random.uuid(),
            userId: user.id,
            attemptId: 'snapshot',
            digest: 'x',
            createdAt: env.clock.now(),
            expiresAt: env.clock.now(),
          }),
      ],
    ];
    for (const [what, change] of changes) {
      const before = await stateSnapshot(env);
      await change();
      expect(await stateSnapshot(env), what).not.toBe(before);
    }
    // What a request may touch by being made is not a change: a remembered browser's last use.
    const [device] = await env.deps.store.listRememberedDevices(user.id, env.clock.now());
    const before = await stateSnapshot(env);
    env.clock.advance(1000);
    await env.deps.store.touchRememberedDevice(device!.id, env.clock.now());
    expect(await stateSnapshot(env)).toBe(before);
  });
});
