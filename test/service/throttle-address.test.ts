import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DEFAULT_ACCOUNT_THROTTLE, DEFAULT_ADDRESS_THROTTLE } from '../../src/core/throttle.js';
import { createUser, signInWithPassword } from '../../src/service/accounts/accounts.js';
import type { ServiceDeps } from '../../src/service/deps.js';
import { accountThrottleKey, addressKey, counters } from '../../src/service/throttle/throttle-counters.js';
import { testEngines } from '../helpers/engines.js';
import { redisAvailable, testRedisCounters } from '../helpers/redis.js';
import { createTestEnvironment, type TestEnvironment } from '../helpers/service-deps.js';

/*
 * An attempt is charged to its client address first, then to the account, in one transaction (one Lua
 * call each with Redis). When the account refuses (back-off or lock), the address's charge stays: the
 * address did send the attempt. Decided on purpose (docs/security.md, "Per client address"): an address
 * that keeps hammering a blocked account is slowed down like one guessing, and the account's own counter
 * is never touched by refused attempts.
 */

const PASSWORD = 'correct horse battery staple';
const withRedis = await redisAvailable();
const setups = testEngines().flatMap((engine) => [
  { engine, counters: 'database' as const },
  ...(withRedis ? [{ engine, counters: 'redis' as const }] : []),
]);

describe.each(setups)(
  'an attempt the account refuses still counts for its address ($engine, counters in the $counters)',
  (setup) => {
    let env: TestEnvironment;
    let deps: ServiceDeps;
    beforeEach(async () => {
      env = await createTestEnvironment(setup.engine);
      deps = setup.counters === 'redis' ? { ...env.deps, attemptCounters: testRedisCounters() } : env.deps;
    });
    afterEach(async () => {
      await deps.attemptCounters?.close?.();
      await env.close();
    });

    async function account() {
      const email = `user-${Math.random().toString(36).slice(2)}@example.test`;
      const created = await createUser(deps, { email, password: PASSWORD, context: {} });
      if (!created.ok) throw new Error(created.error);
      return { email, key: accountThrottleKey(created.value.userId), userId: created.value.userId };
    }

    test('req 46, 50: refused by the account, charged to the address; 20 such refusals block the address for every account', async () => {
      const victim = await account();
      const elsewhere = { ip: '198.51.100.30' };
      for (let i = 0; i < DEFAULT_ACCOUNT_THROTTLE.freeFailures; i += 1) {
        await signInWithPassword(deps, {
          email: victim.email,
          password: 'wrong password!',
          context: elsewhere,
        });
      }
      const blockedAccount = await counters(deps).findAttempts(victim.key);
      expect(blockedAccount?.blockedUntil).not.toBeNull();

      const hammering = { ip: '203.0.113.30' };
      const first = await signInWithPassword(deps, {
        email: victim.email,
        password: PASSWORD,
        context: hammering,
      });
      expect(first).toMatchObject({ ok: false, error: 'too_many_attempts', retryAfterSeconds: 30 });
      // The address's charge committed with the refusal; the account's counter did not move.
      expect(await counters(deps).findAttempts(addressKey(hammering.ip))).toMatchObject({ failures: 1 });
      expect(await counters(deps).findAttempts(victim.key)).toEqual(blockedAccount);
      const [refusal] = await deps.store.listAuditEvents({
        userId: victim.userId,
        action: 'rate_limited',
        limit: 1,
      });
      expect(refusal?.details).toMatchObject({ scope: 'account', step: 'sign_in' });

      for (let i = 1; i < DEFAULT_ADDRESS_THROTTLE.freeFailures; i += 1) {
        await signInWithPassword(deps, { email: victim.email, password: PASSWORD, context: hammering });
      }
      expect(await counters(deps).findAttempts(victim.key)).toEqual(blockedAccount);
      // Now the address itself is in back-off: another account's right password from it waits too,
      // while that account from any other address is fine.
      const bystander = await account();
      expect(
        await signInWithPassword(deps, { email: bystander.email, password: PASSWORD, context: hammering }),
      ).toMatchObject({ ok: false, error: 'too_many_attempts' });
      const [byAddress] = await deps.store.listAuditEvents({
        userId: bystander.userId,
        action: 'rate_limited',
        limit: 1,
      });
      expect(byAddress?.details).toMatchObject({ scope: 'address' });
      expect(await counters(deps).findAttempts(bystander.key)).toBeUndefined();
      expect(
        await signInWithPassword(deps, { email: bystander.email, password: PASSWORD, context: elsewhere }),
      ).toMatchObject({ ok: true });
    });
  },
);
