import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  chargeAttempt,
  DEFAULT_ACCOUNT_THROTTLE,
  DEFAULT_ADDRESS_THROTTLE,
  settleSuccess,
  type ThrottleState,
} from '../../src/core/throttle.js';
import { defineAttemptCountersContract } from '../../src/store/contract/throttle.contract.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import type { RedisAttemptCounters } from '../../src/store/redis/redis-attempt-counters.js';
import { redisAvailable, testRedisCounters } from '../helpers/redis.js';

/** What a decision depends on; a key with no row and an emptied one both read as no failures. */
function comparable(state: ThrottleState | undefined) {
  return {
    failures: state?.failures ?? 0,
    blockedUntil: state?.blockedUntil ?? null,
    lockedAt: state?.lockedAt ?? null,
  };
}

const available = await redisAvailable();

describe.skipIf(!available)('Redis attempt counters (REDIS_URL)', () => {
  defineAttemptCountersContract(async () => {
    const counters = testRedisCounters();
    return { counters, close: () => counters.close() };
  });

  describe('the Lua scripts decide exactly as core/throttle.ts and the database', () => {
    let counters: RedisAttemptCounters;
    let database: OpenedStore;
    let dir: string;
    beforeAll(async () => {
      counters = testRedisCounters();
      dir = await mkdtemp(join(tmpdir(), 'sparekey-redis-model-'));
      database = await openStore({ kind: 'sqlite', path: join(dir, 'sparekey.db') });
    });
    afterAll(async () => {
      await counters?.close();
      await database?.close();
      await rm(dir, { recursive: true, force: true });
    });

    const step = fc.record({
      op: fc.oneof(
        { weight: 4, arbitrary: fc.constant('charge_second_factor' as const) },
        { weight: 4, arbitrary: fc.constant('charge_sign_in' as const) },
        { weight: 1, arbitrary: fc.constant('refund' as const) },
        { weight: 1, arbitrary: fc.constant('reset' as const) },
      ),
      advance: fc.oneof(
        { weight: 2, arbitrary: fc.constant('to_block_end' as const) },
        { weight: 2, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 * 3600_000 }) },
      ),
    });
    const failureAfterTheBlock = fc.record({
      op: fc.constantFrom('charge_second_factor' as const, 'charge_sign_in' as const),
      advance: fc.constant('to_block_end' as const),
    });
    // Up to 30 steps: a run of failures, each after the block before it (so a third of the sequences
    // reach the account lock at 20), then any steps; uniform steps alone almost never got to the lock.
    const sequence = fc
      .integer({ min: 0, max: 30 })
      .chain((failures) =>
        fc.tuple(
          fc.array(failureAfterTheBlock, { minLength: failures, maxLength: failures }),
          fc.array(step, { maxLength: 30 - failures, size: 'max' }),
        ),
      )
      .map(([failures, rest]) => [...failures, ...rest]);
    type Step = {
      op: 'charge_second_factor' | 'charge_sign_in' | 'refund' | 'reset';
      advance: number | 'to_block_end';
    };
    const policyArbitrary = fc.oneof(
      { weight: 3, arbitrary: fc.constant(DEFAULT_ACCOUNT_THROTTLE) },
      { weight: 1, arbitrary: fc.constant(DEFAULT_ADDRESS_THROTTLE) },
    );
    const lockAfter = DEFAULT_ACCOUNT_THROTTLE.lockAfter as number;
    // The defect this test missed: 20 failures, each after its block, then the password step at once.
    const toTheLockThenAPassword: Step[] = [
      ...Array.from({ length: lockAfter }, () => ({
        op: 'charge_second_factor' as const,
        advance: 'to_block_end' as const,
      })),
      { op: 'charge_sign_in', advance: 0 },
      { op: 'charge_second_factor', advance: 0 },
      { op: 'charge_sign_in', advance: 0 },
      { op: 'refund', advance: 'to_block_end' },
    ];

    const seen = { runs: 0, locked: 0, chargedAtTheLock: 0 };

    test('req 47, 48: sequences of 0-30 charges and settlements give the same verdicts and states, through the lock', async () => {
      await fc.assert(
        fc.asyncProperty(sequence, policyArbitrary, async (steps, policy) => {
          const key = `account:${randomUUID()}`;
          let model: ThrottleState | undefined;
          let now = Date.UTC(2026, 10, 23);
          let lockedAtStep = -1;
          seen.runs += 1;
          for (const [index, { op, advance }] of steps.entries()) {
            now = advance === 'to_block_end' ? Math.max(now, model?.blockedUntil ?? now) : now + advance;
            const at = new Date(now);
            if (op === 'reset' || op === 'refund') {
              // Redis drops a reset key; the model keeps an empty state: both read as "no failures".
              model = model && settleSuccess(model, policy, op, now);
              await counters.settleAttempt(key, policy, op, at);
              await database.store.settleAttempt(key, policy, op, at);
            } else {
              const kind = op === 'charge_sign_in' ? 'sign_in' : 'second_factor';
              const expected = chargeAttempt(model, policy, kind, now);
              expect(await counters.chargeAttempt(key, policy, kind, at)).toEqual(expected.verdict);
              expect(await database.store.chargeAttempt(key, policy, kind, at)).toEqual(expected.verdict);
              if (expected.verdict.charged && expected.verdict.lockedNow) lockedAtStep = index;
              if (expected.verdict.charged && lockedAtStep === index - 1 && advance === 0) {
                seen.chargedAtTheLock += 1;
              }
              model = expected.next ?? model;
            }
            const wanted = comparable(model);
            expect(comparable(await counters.findAttempts(key))).toEqual(wanted);
            expect(comparable(await database.store.findAttempts(key))).toEqual(wanted);
          }
          if (lockedAtStep >= 0) seen.locked += 1;
        }),
        { numRuns: 80, seed: 20261123, examples: [[toTheLockThenAPassword, DEFAULT_ACCOUNT_THROTTLE]] },
      );
      // The property must have gone through the lock, not only the back-off before it.
      expect(seen.locked).toBeGreaterThanOrEqual(15);
      expect(seen.chargedAtTheLock).toBeGreaterThanOrEqual(1);
    });
  });
});
