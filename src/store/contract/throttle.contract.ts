import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  DEFAULT_ACCOUNT_THROTTLE,
  DEFAULT_ADDRESS_THROTTLE,
  chargeAttempt as decideCharge,
  type ThrottlePolicy,
  type ThrottleState,
} from '../../core/throttle.js';
import type { AttemptCounters } from '../store.js';
import { at } from './fixtures.js';

export type MakeAttemptCounters = () => Promise<{ counters: AttemptCounters; close(): Promise<void> }>;

const policy: ThrottlePolicy = DEFAULT_ACCOUNT_THROTTLE;
const freshKey = () => `account:${randomUUID()}`;

/**
 * The failed-attempt counters every implementation (both database engines, Redis) must honour: the decision
 * and the write are one atomic step, so concurrent attempts cannot race past the limit (STANDARDS req 47).
 */
export function defineAttemptCountersContract(makeCounters: MakeAttemptCounters): void {
  describe('failed-attempt counters', () => {
    let opened: Awaited<ReturnType<MakeAttemptCounters>> | undefined;
    beforeAll(async () => {
      opened = await makeCounters();
    });
    afterAll(async () => {
      await opened?.close();
    });
    const counters = () => opened?.counters as AttemptCounters;

    test('req 47: 200 concurrent first attempts on a key with no row yet: exactly the free failures are charged', async () => {
      const key = freshKey();
      const verdicts = await Promise.all(
        Array.from({ length: 200 }, () => counters().chargeAttempt(key, policy, 'second_factor', at(0))),
      );
      expect(verdicts.filter((verdict) => verdict.charged)).toHaveLength(policy.freeFailures);
      expect(verdicts.filter((verdict) => !verdict.charged && verdict.reason === 'blocked')).toHaveLength(
        200 - policy.freeFailures,
      );
      expect(await counters().findAttempts(key)).toMatchObject({
        failures: policy.freeFailures,
        blockedUntil: at(policy.baseDelayMs).getTime(),
        lockedAt: null,
      });
    });

    test('req 48: the block ends on time; the lock stops second factors but not passwords, at once', async () => {
      const key = freshKey();
      const lockAfter = policy.lockAfter ?? 0;
      let now = 0;
      for (let failure = 1; failure <= lockAfter; failure += 1) {
        // Each failure after the block before it has run out (the 20th is not waited after).
        const blockedUntil = (await counters().findAttempts(key))?.blockedUntil ?? 0;
        now = Math.max(now, blockedUntil - at(0).getTime());
        const verdict = await counters().chargeAttempt(key, policy, 'second_factor', at(now));
        expect(verdict).toMatchObject({ charged: true, failures: failure, lockedNow: failure === lockAfter });
      }
      // Right after the locking failure, with no time passing: locked, and no block on the password step,
      // so the owner can use the emailed unlock link (password + link) at once (core/throttle.ts).
      expect(await counters().findAttempts(key)).toMatchObject({
        failures: lockAfter,
        blockedUntil: null,
        lockedAt: at(now).getTime(),
      });
      expect(await counters().chargeAttempt(key, policy, 'second_factor', at(now))).toEqual({
        charged: false,
        reason: 'locked',
        lockedAt: at(now).getTime(),
      });
      expect(await counters().chargeAttempt(key, policy, 'sign_in', at(now))).toEqual({
        charged: true,
        failures: lockAfter + 1,
        lockedNow: false,
        lockedAt: at(now).getTime(),
      });
      await counters().clearAttempts(key);
      expect(await counters().findAttempts(key)).toBeUndefined();
      expect((await counters().chargeAttempt(key, policy, 'second_factor', at(now))).charged).toBe(true);
    });

    test('a success resets the key, or refunds the one charge', async () => {
      const key = freshKey();
      for (let i = 0; i < 5; i += 1) await counters().chargeAttempt(key, policy, 'sign_in', at(0));
      await counters().settleAttempt(key, policy, 'refund', at(1));
      expect(await counters().findAttempts(key)).toMatchObject({ failures: 4, blockedUntil: null });
      await counters().settleAttempt(key, policy, 'reset', at(2));
      expect((await counters().findAttempts(key))?.failures ?? 0).toBe(0);
    });

    test('every charge is the pure decision (core/throttle.ts) on the stored state: free, forgotten, blocked, locked', async () => {
      // The stores charge a plain attempt in one statement and decide the rest under the row lock; both
      // must agree with the one rule, step by step, whatever the policy.
      const oneFree: ThrottlePolicy = { ...policy, freeFailures: 1, lockAfter: 3, forgetAfterMs: 1_000 };
      const shortForget: ThrottlePolicy = {
        ...DEFAULT_ADDRESS_THROTTLE,
        freeFailures: 3,
        forgetAfterMs: 5_000,
      };
      for (const each of [policy, DEFAULT_ADDRESS_THROTTLE, oneFree, shortForget]) {
        const key = freshKey();
        let state: ThrottleState | undefined;
        // Times in ms: bursts, a pause past the forgetting, a wait past each block, the lock's step.
        const steps = [0, 0, 1, 2, 3, 5_004, 5_005, 5_006, 5_007, 70_000, 140_000, 400_000, 4_000_000];
        for (const [index, ms] of steps.entries()) {
          const kind = index % 4 === 3 ? 'sign_in' : 'second_factor';
          const expected = decideCharge(state, each, kind, at(ms).getTime());
          expect(await counters().chargeAttempt(key, each, kind, at(ms))).toEqual(expected.verdict);
          state = expected.next ?? state;
          expect(await counters().findAttempts(key)).toEqual(state);
        }
      }
    });

    test('keys are independent', async () => {
      const [first, second] = [freshKey(), freshKey()];
      for (let i = 0; i < 5; i += 1) await counters().chargeAttempt(first, policy, 'sign_in', at(0));
      expect((await counters().chargeAttempt(second, policy, 'sign_in', at(0))).charged).toBe(true);
    });
  });
}
