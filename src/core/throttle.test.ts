import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  backoffDelayMs,
  chargeAttempt,
  DEFAULT_ACCOUNT_THROTTLE,
  DEFAULT_ADDRESS_THROTTLE,
  isLockReportOverdue,
  LOCK_REPORT_GRACE_MS,
  NIST_MAX_CONSECUTIVE_FAILURES,
  settleSuccess,
  type ThrottleState,
  throttlePolicyProblems,
} from './throttle.js';

const account = DEFAULT_ACCOUNT_THROTTLE;
const MINUTE = 60_000;

/** Charges `n` attempts at `nowMs`, each refused or charged; returns the state and how many were charged. */
function chargeMany(
  state: ThrottleState | undefined,
  n: number,
  nowMs: number,
  kind = 'second_factor' as const,
) {
  let charged = 0;
  let current = state;
  for (let i = 0; i < n; i += 1) {
    const { verdict, next } = chargeAttempt(current, account, kind, nowMs);
    if (verdict.charged) charged += 1;
    current = next ?? current;
  }
  return { state: current, charged };
}

describe('throttle decisions (NIST SP 800-63B 5.2.2, STANDARDS section E)', () => {
  test('req 48: the schedule: free until the 5th failure, then 30 s doubling, capped at 1 hour', () => {
    const seconds = [1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 19].map((n) => backoffDelayMs(account, n) / 1000);
    expect(seconds).toEqual([0, 0, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
  });

  test('req 48: attempts 1-10 never hard-lock, the lock comes at 20, and 100 is never reached', () => {
    const { state } = chargeMany(undefined, 1, 0);
    let current = state;
    for (let failure = 2; failure <= 19; failure += 1) {
      const charged = chargeAttempt(current, account, 'second_factor', 10 ** 12 * failure);
      expect(charged.verdict).toMatchObject({ charged: true, lockedNow: false });
      current = charged.next;
    }
    expect(chargeAttempt(current, account, 'second_factor', 10 ** 14).verdict).toMatchObject({
      lockedNow: true,
    });
    expect(account.lockAfter).toBeLessThan(NIST_MAX_CONSECUTIVE_FAILURES);
  });

  test('req 47: with no time passing, at most the free failures are ever charged, however many attempts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), (attempts) => {
        expect(chargeMany(undefined, attempts, 0).charged).toBe(Math.min(attempts, account.freeFailures));
      }),
    );
  });

  test('a refused attempt writes nothing, so refusals cannot extend a block', () => {
    const { state } = chargeMany(undefined, 5, 0);
    const refused = chargeAttempt(state, account, 'second_factor', 10_000);
    expect(refused).toEqual({
      verdict: { charged: false, reason: 'blocked', retryAfterMs: 20_000, lockedAt: null },
      next: undefined,
    });
  });

  test('req 48: the 20th consecutive failure locks second factors; passwords still get through for the unlock', () => {
    let state: ThrottleState | undefined;
    let now = 0;
    for (let failure = 1; failure <= 20; failure += 1) {
      now = Math.max(now, state?.blockedUntil ?? 0);
      const { verdict, next } = chargeAttempt(state, account, 'second_factor', now);
      expect(verdict).toMatchObject({ charged: true, failures: failure, lockedNow: failure === 20 });
      state = next;
    }
    // The locking failure sets no block: the owner's password step for the unlock link is open at once.
    expect(state).toEqual({ failures: 20, blockedUntil: null, lockedAt: now, updatedAt: now });
    expect(chargeAttempt(state, account, 'second_factor', now + 365 * 24 * 60 * MINUTE).verdict).toEqual({
      charged: false,
      reason: 'locked',
      lockedAt: now,
    });
    expect(chargeAttempt(state, account, 'sign_in', now).verdict).toMatchObject({
      charged: true,
      lockedNow: false,
      lockedAt: now,
    });
  });

  test('a lock is left to the attempt that reached it for a minute; after that another attempt reports it', () => {
    expect(isLockReportOverdue(1000, 1000)).toBe(false);
    expect(isLockReportOverdue(1000, 1000 + LOCK_REPORT_GRACE_MS - 1)).toBe(false);
    expect(isLockReportOverdue(1000, 1000 + LOCK_REPORT_GRACE_MS)).toBe(true);
  });

  test('a completed sign-in starts the account over; a step success gives back only its own charge', () => {
    const { state } = chargeMany(undefined, 5, 0);
    expect(settleSuccess(state, account, 'reset', 10)).toEqual({
      failures: 0,
      blockedUntil: null,
      lockedAt: null,
      updatedAt: 10,
    });
    // The 5th charge started the block; refunding it lifts the block again.
    expect(settleSuccess(state, account, 'refund', 10)).toMatchObject({ failures: 4, blockedUntil: null });
  });

  test('an address counter is forgotten after an idle hour; an account counter never is', () => {
    const address = DEFAULT_ADDRESS_THROTTLE;
    const first = chargeAttempt(undefined, address, 'sign_in', 0).next;
    expect(chargeAttempt(first, address, 'sign_in', 60 * MINUTE).verdict).toMatchObject({ failures: 1 });
    const accountState = chargeAttempt(undefined, account, 'sign_in', 0).next;
    expect(chargeAttempt(accountState, account, 'sign_in', 1000 * MINUTE).verdict).toMatchObject({
      failures: 2,
    });
  });

  test('policies must lock at or below NIST 100 and after the free failures', () => {
    expect(throttlePolicyProblems(account)).toEqual([]);
    expect(throttlePolicyProblems({ ...account, lockAfter: NIST_MAX_CONSECUTIVE_FAILURES + 1 })).toHaveLength(
      1,
    );
    expect(throttlePolicyProblems({ ...account, lockAfter: 5 })).toHaveLength(1);
    expect(throttlePolicyProblems({ ...account, freeFailures: 0 })).toHaveLength(1);
  });
});
