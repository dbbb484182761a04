import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../../src/build-server.js';
import type { AuditEvent } from '../../src/core/audit.js';
import { createApiKey } from '../../src/service/admin/api-keys.js';
import type { Store } from '../../src/store/store.js';
import { configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { createTestEnvironment, createTestUser, type TestEnvironment } from '../helpers/service-deps.js';

/**
 * Issue 25: a verification through the JSON API no longer writes the key's `api_key_used` in a transaction
 * of its own. It is carried to the operation and commits in the operation's first transaction (the
 * throttle charge), or, when the operation commits nothing, just before the answer is sent. Either way
 * every call is audited exactly once (STANDARDS req 56; docs/api.md), before the caller hears anything.
 */
describe.each(['sqlite', 'postgres'] as const)('the key use a verification carries (%s)', (engine) => {
  let env: TestEnvironment;
  let app: Awaited<ReturnType<typeof buildServer>>;
  let key: string;
  let keyId: string;
  /** What the server's store is asked at the top level (not inside a transaction), and what fails. */
  const seen = { transactions: 0, appendsOutside: [] as string[] };
  const failing = { commit: false, appendAuditEvents: false };

  beforeAll(async () => {
    env = await createTestEnvironment(engine, { notifications: false });
    await configureRecoveryCodes(env);
    const created = await createApiKey(env.deps, {
      name: 'backend',
      scopes: ['recovery_codes:write'],
      context: {},
    });
    if (!created.ok) throw new Error(created.error);
    key = created.value.key;
    keyId = created.value.id;
    const store = new Proxy(env.deps.store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name === 'transaction') {
          return async <T>(work: (tx: Store) => Promise<T>) => {
            seen.transactions += 1;
            return target.transaction(async (tx) => {
              const result = await work(tx);
              // A failure at commit: everything the callback wrote rolls back.
              if (failing.commit) throw new Error('could not commit (simulated)');
              return result;
            });
          };
        }
        if (name === 'appendAuditEvent' || name === 'appendAuditEvents') {
          return async (events: unknown) => {
            seen.appendsOutside.push(String(name));
            if (name === 'appendAuditEvents' && failing.appendAuditEvents)
              throw new Error('could not append (simulated)');
            return (value as (events: unknown) => Promise<unknown>).call(target, events);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    app = await buildServer({ deps: { ...env.deps, store } });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await env?.close();
  });

  async function userWithCodes(): Promise<{ userId: string; codes: string[] }> {
    const user = await createTestUser(env);
    const { recoveryCodes } = await enableTotp(env, user.id);
    if (!recoveryCodes) throw new Error('no recovery codes issued');
    return { userId: user.id, codes: [...recoveryCodes.codes] };
  }

  const verify = (userId: string, body: unknown) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/users/${userId}/recovery-codes/verify`,
      headers: { authorization: `Bearer ${key}` },
      payload: body as Record<string, unknown>,
    });

  /** The events since `afterSeq`, oldest first. */
  async function eventsAfter(afterSeq: number): Promise<AuditEvent[]> {
    return env.deps.store.listAuditEventsAscending({ afterSeq, limit: 100 });
  }
  async function newestSeq(): Promise<number> {
    return (await env.deps.store.getAuditSealingState()).newestSeq ?? 0;
  }
  const keyUses = (events: AuditEvent[]) =>
    events.filter((event) => event.action === 'api_key_used' && event.details.keyId === keyId);

  function reset() {
    seen.transactions = 0;
    seen.appendsOutside = [];
    failing.commit = false;
    failing.appendAuditEvents = false;
  }

  test('req 56: an accepted code costs two transactions, and the key use commits inside one of them, before the use', async () => {
    const { userId, codes } = await userWithCodes();
    const before = await newestSeq();
    reset();
    const response = await verify(userId, { code: codes[0] });
    expect(response.statusCode).toBe(200);
    // The charge and the consume: no transaction and no statement of its own for the key's use.
    expect(seen.transactions).toBe(2);
    expect(seen.appendsOutside).toEqual([]);
    const events = await eventsAfter(before);
    expect(keyUses(events)).toHaveLength(1);
    expect(keyUses(events)[0]).toMatchObject({
      outcome: 'success',
      actorId: `apikey:${keyId}`,
      details: { operation: 'POST /api/v1/users/:userId/recovery-codes/verify' },
    });
    const used = events.filter((event) => event.action === 'recovery_code_used');
    expect(used).toHaveLength(1);
    expect(keyUses(events)[0]!.seq).toBeLessThan(used[0]!.seq);
  });

  test('req 56: a refused code: the key use once, in the charge, then the refusal', async () => {
    const { userId, codes } = await userWithCodes();
    await verify(userId, { code: codes[0] });
    const before = await newestSeq();
    reset();
    const response = await verify(userId, { code: codes[0] });
    expect(response.statusCode).toBe(409);
    expect(seen.transactions).toBe(1);
    expect(seen.appendsOutside).toEqual(['appendAuditEvent']);
    const events = await eventsAfter(before);
    expect(events.map((event) => event.action)).toEqual(['api_key_used', 'recovery_code_failed']);
  });

  test('req 56: a call whose operation commits nothing (a refused body, an unknown user) is audited once, before its answer', async () => {
    const { userId } = await userWithCodes();
    for (const [target, body, status] of [
      [userId, { code: 'x', extra: 1 }, 400],
      ['00000000-0000-4000-8000-000000000000', { code: 'ABCDE-FGHJK' }, 404],
    ] as const) {
      const before = await newestSeq();
      reset();
      const response = await verify(target, body);
      expect(response.statusCode).toBe(status);
      expect(seen.transactions).toBe(0);
      expect(keyUses(await eventsAfter(before))).toHaveLength(1);
    }
  });

  test('req 3 and 56: when the operation rolls back, the key use rolls back with it and is written once before the 500', async () => {
    const { userId, codes } = await userWithCodes();
    const before = await newestSeq();
    reset();
    failing.commit = true;
    const response = await verify(userId, { code: codes[0] });
    expect(response.statusCode).toBe(500);
    failing.commit = false;
    const events = await eventsAfter(before);
    // The charge rolled back with the key use in it; the edge wrote the key use before answering.
    expect(events.map((event) => event.action)).toEqual(['api_key_used']);
    expect(seen.appendsOutside).toEqual(['appendAuditEvents']);
    const summary = await env.deps.store.getRecoveryCodeSummary(userId);
    expect(summary?.remaining).toBe(summary?.total);
    // The code still works afterwards, once.
    expect((await verify(userId, { code: codes[0] })).statusCode).toBe(200);
    expect((await verify(userId, { code: codes[0] })).statusCode).toBe(409);
  });

  test('a key use that cannot be written makes the answer a 500 (tried once), never a success unrecorded', async () => {
    const before = await newestSeq();
    reset();
    failing.appendAuditEvents = true;
    const response = await verify('00000000-0000-4000-8000-000000000000', { code: 'ABCDE-FGHJK' });
    failing.appendAuditEvents = false;
    expect(response.statusCode).toBe(500);
    expect(seen.appendsOutside).toEqual(['appendAuditEvents']);
    expect(keyUses(await eventsAfter(before))).toEqual([]);
  });
});
