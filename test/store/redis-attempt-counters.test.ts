import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  chargeAttempt,
  DEFAULT_ACCOUNT_THROTTLE,
  DEFAULT_ADDRESS_THROTTLE,
  settleSuccess,
  type ThrottleState,
} from '../../src/core/throttle.js';
import { defineAttemptCountersContract } from '../../src/store/contract/throttle.contract.js';
import {
  createRedisAttemptCounters,
  type RedisAttemptCounters,
} from '../../src/store/redis/redis-attempt-counters.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Redis runs on this machine kind; under CI a missing Redis is a failure, like PostgreSQL. */
async function redisReachable(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

const available = await redisReachable();
if (!available && process.env.CI === 'true') throw new Error(`Redis is required under CI (${REDIS_URL})`);

describe.skipIf(!available)('Redis attempt counters (REDIS_URL)', () => {
  // Each run gets its own key prefix, so parallel runs and leftovers never meet.
  const prefix = () => `sparekey-test:${randomUUID()}:`;
  defineAttemptCountersContract(async () => {
    const counters = createRedisAttemptCounters(REDIS_URL, { prefix: prefix() });
    return { counters, close: () => counters.close() };
  });

  describe('the Lua scripts decide exactly as core/throttle.ts', () => {
    let counters: RedisAttemptCounters;
    beforeAll(() => {
      counters = createRedisAttemptCounters(REDIS_URL, { prefix: prefix() });
    });
    afterAll(() => counters.close());

    const step = fc.record({
      op: fc.constantFrom('charge_second_factor', 'charge_sign_in', 'reset', 'refund'),
      advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4 * 3600_000 })),
    });

    test('random attempt sequences give the same verdicts and states', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(step, { minLength: 1, maxLength: 40 }),
          fc.constantFrom(DEFAULT_ACCOUNT_THROTTLE, DEFAULT_ADDRESS_THROTTLE),
          async (steps, policy) => {
            const key = randomUUID();
            let model: ThrottleState | undefined;
            let now = Date.UTC(2026, 10, 23);
            for (const { op, advanceMs } of steps) {
              now += advanceMs;
              if (op === 'reset' || op === 'refund') {
                // Redis drops a reset key; the model keeps an empty state: both read as "no failures".
                model = model && settleSuccess(model, policy, op, now);
                await counters.settleAttempt(key, policy, op, new Date(now));
              } else {
                const kind = op === 'charge_sign_in' ? 'sign_in' : 'second_factor';
                const expected = chargeAttempt(model, policy, kind, now);
                expect(await counters.chargeAttempt(key, policy, kind, new Date(now))).toEqual(
                  expected.verdict,
                );
                model = expected.next ?? model;
              }
              const stored = await counters.findAttempts(key);
              expect(stored?.failures ?? 0).toBe(model?.failures ?? 0);
              expect(stored?.blockedUntil ?? null).toBe(model?.blockedUntil ?? null);
              expect(stored?.lockedAt ?? null).toBe(model?.lockedAt ?? null);
            }
          },
        ),
        { numRuns: 60, seed: 20261123 },
      );
    });
  });
});
