/**
 * Throttling of failed authentication attempts (NIST SP 800-63B 5.2.2: at most 100 consecutive failures per
 * account; ASVS 4.0.3 2.2.1; STANDARDS req 13). Pure: the stores keep a `ThrottleState` per key (an account or a
 * client address) and apply these functions to it under a lock, so the decision and the write are one step.
 *
 * Each attempt is charged *before* it is evaluated: the charge already counts it as a failure and, from the
 * `freeFailures`-th failure on, already starts the back-off. A burst of concurrent guesses therefore cannot
 * race past the limit (the umami and better-auth defects in FIELD-DEFECTS.md): at most `freeFailures` of them
 * are ever evaluated, and an attempt that turns out to succeed is settled afterwards.
 */

export interface ThrottlePolicy {
  /** Consecutive failures allowed before the back-off starts. */
  freeFailures: number;
  /** Wait after the `freeFailures`-th failure; doubles with each further failure. */
  baseDelayMs: number;
  /** The back-off never exceeds this. */
  maxDelayMs: number;
  /** Consecutive failures after which second factors are locked until an unlock; null: never locked. */
  lockAfter: number | null;
  /** A counter untouched this long starts over (client addresses); null: only a success resets it. */
  forgetAfterMs: number | null;
}

/**
 * How a charged attempt that succeeded is settled: `reset` when the account is fully signed in (the failures
 * were not consecutive any more); `refund` when only a step succeeded (a right password with a second factor
 * still owed, or any success from a shared client address), which gives back just the one charge.
 */
export type SettleMode = 'reset' | 'refund';

export interface ThrottleState {
  failures: number;
  /** Epoch ms until which every attempt is refused, or null. */
  blockedUntil: number | null;
  /** Epoch ms when second factors were locked, or null. */
  lockedAt: number | null;
  updatedAt: number;
}

/** Which step an attempt is: a lock stops second factors but leaves the password step open for unlocking. */
export type AttemptKind = 'sign_in' | 'second_factor';

/**
 * `lockedAt` is when the key's second factors were locked (by this charge or an earlier one), or null: the
 * lock's identity, so the service can see a lock whose report a crashed process never made (lock-report.ts).
 */
export type ChargeVerdict =
  | { charged: true; failures: number; lockedNow: boolean; lockedAt: number | null }
  | { charged: false; reason: 'blocked'; retryAfterMs: number; lockedAt: number | null }
  | { charged: false; reason: 'locked'; lockedAt: number };

export const EMPTY_THROTTLE_STATE: ThrottleState = {
  failures: 0,
  blockedUntil: null,
  lockedAt: null,
  updatedAt: 0,
};

/** The back-off after `failures` consecutive failures: 0 below the free allowance, then doubling to a cap. */
export function backoffDelayMs(policy: ThrottlePolicy, failures: number): number {
  if (failures < policy.freeFailures) return 0;
  const doublings = Math.min(failures - policy.freeFailures, 40);
  return Math.min(policy.baseDelayMs * 2 ** doublings, policy.maxDelayMs);
}

/**
 * Decides one attempt and returns the state to store. A refused attempt changes nothing (so refusals cost no
 * write and cannot extend a block), a charged one is counted as a failure until it is settled.
 */
export function chargeAttempt(
  current: ThrottleState | undefined,
  policy: ThrottlePolicy,
  kind: AttemptKind,
  nowMs: number,
): { verdict: ChargeVerdict; next: ThrottleState | undefined } {
  const state = current ?? EMPTY_THROTTLE_STATE;
  if (state.lockedAt !== null && kind === 'second_factor') {
    return { verdict: { charged: false, reason: 'locked', lockedAt: state.lockedAt }, next: undefined };
  }
  if (state.blockedUntil !== null && state.blockedUntil > nowMs) {
    const retryAfterMs = state.blockedUntil - nowMs;
    return {
      verdict: { charged: false, reason: 'blocked', retryAfterMs, lockedAt: state.lockedAt },
      next: undefined,
    };
  }
  const forgotten =
    policy.forgetAfterMs !== null &&
    state.lockedAt === null &&
    nowMs - state.updatedAt >= policy.forgetAfterMs;
  const failures = (forgotten ? 0 : state.failures) + 1;
  const delay = backoffDelayMs(policy, failures);
  const lockedNow = state.lockedAt === null && policy.lockAfter !== null && failures >= policy.lockAfter;
  const lockedAt = lockedNow ? nowMs : state.lockedAt;
  return {
    verdict: { charged: true, failures, lockedNow, lockedAt },
    next: {
      failures,
      // Once second factors are locked the lock protects them; the account's owner gets one password try
      // at once for the emailed unlock, and the back-off guards the password again from the next failure.
      blockedUntil: delay > 0 && !lockedNow ? nowMs + delay : null,
      lockedAt,
      updatedAt: nowMs,
    },
  };
}

/**
 * How long a fresh lock belongs to the attempt whose charge reached it. That attempt is still being
 * evaluated and reports the lock itself if it fails; if it succeeds, its settlement gives the lock back
 * and nothing may have been reported. Only a lock older than this, still unreported, is one whose
 * attempt died (a crash between the charge's commit and the report), and the next attempt that meets it
 * reports it. A minute is far longer than any evaluation (one key derivation and a few writes).
 */
export const LOCK_REPORT_GRACE_MS = 60_000;

/** Whether another attempt that meets the lock `lockedAt` should make sure it has been reported. */
export function isLockReportOverdue(lockedAt: number, nowMs: number): boolean {
  return nowMs - lockedAt >= LOCK_REPORT_GRACE_MS;
}

/** The state after a charged attempt succeeded. */
export function settleSuccess(
  current: ThrottleState | undefined,
  policy: ThrottlePolicy,
  mode: SettleMode,
  nowMs: number,
): ThrottleState {
  if (!current || mode === 'reset') return { ...EMPTY_THROTTLE_STATE, updatedAt: nowMs };
  const failures = Math.max(0, current.failures - 1);
  return {
    failures,
    // Any block is the refunded attempt's own: a charge is only made when no block is running, and until its
    // block ends no other attempt can be charged.
    blockedUntil: null,
    // Likewise a lock that only this attempt's charge reached: a right password at 19 failures locks nothing.
    lockedAt: policy.lockAfter !== null && failures < policy.lockAfter ? null : current.lockedAt,
    updatedAt: nowMs,
  };
}

/**
 * The defaults (STANDARDS req 48, documented in docs/security.md): back-off from the 5th consecutive failure,
 * 30 seconds doubling to an hour, and a hard lock of second factors at 20 (NIST allows up to 100; at least
 * 10 attempts come before any hard lock).
 */
export const DEFAULT_ACCOUNT_THROTTLE: ThrottlePolicy = {
  freeFailures: 5,
  baseDelayMs: 30_000,
  maxDelayMs: 60 * 60_000,
  lockAfter: 20,
  forgetAfterMs: null,
};

/** Per client address: more room (offices share one address), never a lock, forgotten after an hour. */
export const DEFAULT_ADDRESS_THROTTLE: ThrottlePolicy = {
  freeFailures: 20,
  baseDelayMs: 30_000,
  maxDelayMs: 60 * 60_000,
  lockAfter: null,
  forgetAfterMs: 60 * 60_000,
};

/**
 * Emails one account is sent (sign-in codes, unlock links; STANDARDS req 35): 5 in a quarter hour, then the
 * 6th waits 15 minutes, doubling to an hour. Never settled: every email counts.
 */
export const DEFAULT_EMAIL_SEND_THROTTLE: ThrottlePolicy = {
  freeFailures: 5,
  baseDelayMs: 15 * 60_000,
  maxDelayMs: 60 * 60_000,
  lockAfter: null,
  forgetAfterMs: 15 * 60_000,
};

/** Emails sent at the request of one client address: room for an office behind one address. */
export const DEFAULT_EMAIL_SEND_ADDRESS_THROTTLE: ThrottlePolicy = {
  ...DEFAULT_EMAIL_SEND_THROTTLE,
  freeFailures: 20,
};

/** The operator's throttle policies (docs/security.md); the defaults when not configured. */
export interface ThrottleOptions {
  /** One counter per account, over passwords and every second factor. */
  account: ThrottlePolicy;
  /** One counter per client address, over the same attempts. */
  address: ThrottlePolicy;
  /** Emails one account may be sent (sign-in codes, unlock links). */
  emailSend: ThrottlePolicy;
  /** Emails one client address may have sent. */
  emailSendAddress: ThrottlePolicy;
}

export const DEFAULT_THROTTLE_OPTIONS: ThrottleOptions = {
  account: DEFAULT_ACCOUNT_THROTTLE,
  address: DEFAULT_ADDRESS_THROTTLE,
  emailSend: DEFAULT_EMAIL_SEND_THROTTLE,
  emailSendAddress: DEFAULT_EMAIL_SEND_ADDRESS_THROTTLE,
};

/** NIST SP 800-63B 5.2.2 caps consecutive failures at 100; a policy must lock at or below it. */
export const NIST_MAX_CONSECUTIVE_FAILURES = 100;

/** Problems with an operator's policy, as sentences; empty when it is usable. */
export function throttlePolicyProblems(policy: ThrottlePolicy): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(policy.freeFailures) || policy.freeFailures < 1) {
    problems.push('The free failures before back-off must be a whole number of at least 1.');
  }
  if (policy.baseDelayMs < 1000 || policy.maxDelayMs < policy.baseDelayMs) {
    problems.push('The back-off must start at 1 second or more and its cap must not be below its start.');
  }
  if (
    policy.lockAfter !== null &&
    (!Number.isInteger(policy.lockAfter) ||
      policy.lockAfter <= policy.freeFailures ||
      policy.lockAfter > NIST_MAX_CONSECUTIVE_FAILURES)
  ) {
    problems.push(
      `The lock must come after more failures than the free ones and at most ${NIST_MAX_CONSECUTIVE_FAILURES} (NIST SP 800-63B 5.2.2).`,
    );
  }
  return problems;
}
