import type { ErrorCode } from '../core/errors.js';
import type { Result } from '../core/result.js';
import type { AttemptKind, SettleMode, ThrottlePolicy } from '../core/throttle.js';
import type { AttemptCounters, Store } from '../store/store.js';
import { auditEvent } from './audit.js';
import type { RequestContext, ServiceDeps } from './deps.js';
import { addressKey, policies, refusal, type Throttled } from './throttle-counters.js';
import { sendUnlockLink } from './unlock-link.js';
import { emitWebhookEvent } from './webhooks.js';

interface Charge {
  key: string;
  policy: ThrottlePolicy;
}

export interface AttemptSubject {
  /** accountThrottleKey(userId), unknownAccountThrottleKey(email), or null when there is no account at all. */
  accountKey: string | null;
  /** The account, when known: audited and emailed when its second factors get locked. */
  userId: string | null;
  kind: AttemptKind;
  context: RequestContext;
}

/**
 * Charges one attempt to the client address and to the account before anything is evaluated. A backend's
 * calls with an API key carry the backend's address, not the user's, so only the account is charged then.
 */
async function charge(
  deps: ServiceDeps,
  subject: AttemptSubject,
  whenCharged: (() => void) | undefined,
): Promise<{ ok: true; charges: Charge[]; locksIfFailed: boolean } | Throttled> {
  const { address, account } = policies(deps);
  const now = deps.clock.now();
  const charges: Charge[] = [];
  let locksIfFailed = false;
  const wanted: Charge[] = [];
  if (subject.context.ip && !subject.context.viaBackend) {
    wanted.push({ key: addressKey(subject.context.ip), policy: address });
  }
  if (subject.accountKey) wanted.push({ key: subject.accountKey, policy: account });
  const stopped = await withCounters(deps, async (into) => {
    for (const next of wanted) {
      const verdict = await into.chargeAttempt(next.key, next.policy, subject.kind, now);
      if (!verdict.charged) return { by: next, verdict };
      charges.push(next);
      if (next.policy === account) locksIfFailed = verdict.lockedNow;
    }
    whenCharged?.();
    return undefined;
  });
  if (stopped) {
    // Every refusal is audited (STANDARDS req 50): who was refused, from where, and for how long.
    deps.metrics?.attemptThrottled(subject.kind);
    const refused = refusal(stopped.verdict);
    await deps.store.appendAuditEvent(
      auditEvent(now, 'rate_limited', 'failure', subject.userId, subject.context, {
        scope: stopped.by.policy === account ? 'account' : 'address',
        step: subject.kind,
        reason: stopped.verdict.reason,
        retryAfterSeconds: refused.retryAfterSeconds ?? null,
      }),
    );
    return refused;
  }
  return { ok: true, charges, locksIfFailed };
}

/**
 * Runs `work` on the failed-attempt counters. When they live in the database, the address's and the
 * account's changes share one transaction, so an attempt costs one durable commit, not two; Redis counters
 * take each call as it comes. (Lock order on PostgreSQL: address row, then account row, always.)
 */
function withCounters<T>(deps: ServiceDeps, work: (into: AttemptCounters) => Promise<T>): Promise<T> {
  if (deps.attemptCounters) return work(deps.attemptCounters);
  return deps.store.transaction((tx) => work(tx));
}

/** Audits and emails the moment an account's second factors lock (RFC 4226 7.2, STANDARDS req 50). */
async function reportLock(deps: ServiceDeps, subject: AttemptSubject): Promise<void> {
  if (!subject.userId) return;
  const { userId, context } = subject;
  const at = deps.clock.now();
  await deps.store.transaction(async (tx) => {
    await tx.appendAuditEvent(
      auditEvent(at, 'mfa_locked', 'failure', userId, context, {
        failures: policies(deps).account.lockAfter,
      }),
    );
    await emitWebhookEvent(deps, tx, { type: 'mfa.locked', at, userId, context });
  });
  await sendUnlockLink(deps, { userId: subject.userId, context: subject.context, reason: 'locked' });
}

async function settle(
  deps: ServiceDeps,
  into: AttemptCounters,
  charges: Charge[],
  accountMode: SettleMode,
): Promise<void> {
  const { account } = policies(deps);
  const now = deps.clock.now();
  for (const { key, policy } of charges) {
    await into.settleAttempt(key, policy, policy === account ? accountMode : 'refund', now);
  }
}

/**
 * Lets an attempt settle its charges inside the transaction that records its success, so a success
 * commits once instead of twice (each commit is a flush to disk). Only when the counters live in the same
 * database: with Redis counters this does nothing and the charges are settled after the attempt.
 */
export interface Settlement {
  within(tx: Store, accountMode: SettleMode): Promise<void>;
}

/**
 * Runs one authentication attempt under the throttle: charged first, evaluated only when the charge was
 * allowed, and settled when it succeeded. `settleAccount` says how a success counts for the account: `reset`
 * once the user is fully signed in, `refund` when a further step is still owed.
 *
 * `whenCharged` runs the moment every charge is allowed, before the charges commit: an attempt starts its
 * key derivation there, so the hash is computed while the charge is flushed to disk instead of after.
 * Nothing is evaluated before the charge has committed (`attempt` runs only then, and only it looks at the
 * derivation's result), and a refused attempt never starts one, so refusals stay cheap.
 */
export async function throttled<T, E extends ErrorCode>(
  deps: ServiceDeps,
  subject: AttemptSubject,
  attempt: (settlement: Settlement) => Promise<Result<T, E>>,
  settleAccount: (value: T) => SettleMode = () => 'reset',
  whenCharged?: () => void,
): Promise<Result<T, E> | Throttled> {
  const charged = await charge(deps, subject, whenCharged);
  if (!charged.ok) return charged;
  let settledWithin = false;
  const settlement: Settlement = {
    within: async (tx, accountMode) => {
      if (deps.attemptCounters) return;
      await settle(deps, tx, charged.charges, accountMode);
      settledWithin = true;
    },
  };
  const result = await attempt(settlement);
  if (result.ok) {
    if (!settledWithin) {
      await withCounters(deps, (into) => settle(deps, into, charged.charges, settleAccount(result.value)));
    }
  }
  // The charge that reaches the lock only sticks if the attempt failed (a success gives it back).
  else if (charged.locksIfFailed) await reportLock(deps, subject);
  return result;
}
