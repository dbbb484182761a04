import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { verifyTotp } from '../../src/service/factors/verify-totp.js';
import { purgeExpiredRecords, startPurgeWorker } from '../../src/service/maintenance/purge.js';
import { accountThrottleKey, addressKey } from '../../src/service/throttle/throttle-counters.js';
import { testEngines } from '../helpers/engines.js';
import { enableTotp } from '../helpers/mfa.js';
import { createTestEnvironment, createTestUser, type TestEnvironment } from '../helpers/service-deps.js';

describe.each(testEngines())('purging expired records (%s)', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine);
  });
  afterEach(async () => {
    await env.close();
  });

  test("a client address's counter goes an hour after its last failure; the account's consecutive failures stay", async () => {
    const user = await createTestUser(env);
    await enableTotp(env, user.id);
    const context = { ip: '203.0.113.9', userAgent: 'test' };
    for (let i = 0; i < 3; i++) {
      expect(await verifyTotp(env.deps, { userId: user.id, code: '000000', context })).toMatchObject({
        ok: false,
      });
    }
    const counters = env.deps.store;
    expect(await counters.findAttempts(addressKey(context.ip))).toMatchObject({ failures: 3 });

    env.clock.advance(59 * 60_000);
    expect((await purgeExpiredRecords(env.deps)).throttleCounters).toBe(0);
    env.clock.advance(60_000);
    expect((await purgeExpiredRecords(env.deps)).throttleCounters).toBe(1);
    expect(await counters.findAttempts(addressKey(context.ip))).toBeUndefined();
    // NIST SP 800-63B 5.2.2 counts consecutive failures per account: only a success starts them over.
    expect(await counters.findAttempts(accountThrottleKey(user.id))).toMatchObject({ failures: 3 });
  });

  test('the server runs the purge in the background and stops it on close', async () => {
    const runs: number[] = [];
    const stop = startPurgeWorker(env.deps, {
      intervalMs: 10,
      onPurged: (purged) => runs.push(purged.sessions),
      onError: (error) => {
        throw error;
      },
    });
    await expect.poll(() => runs.length, { timeout: 5000 }).toBeGreaterThan(1);
    await stop();
    const after = runs.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runs.length).toBe(after);
  });
});
