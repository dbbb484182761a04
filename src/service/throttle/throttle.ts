import type { ErrorCode } from '../../core/errors.js';
import type { Result } from '../../core/result.js';
import type { AttemptKind, SettleMode, ThrottlePolicy } from '../../core/throttle.js';
import type { AttemptCounters, Store } from '../../store/store.js';
import { auditEvent } from '../audit/audit.js';
import { appendWithCarried } from '../audit/carried-audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { type AccountLock, reportLock, reportOverdueLock } from './lock-report.js';
import { addressKey, policies, refusal, type Throttled } from './throttle-counters.js';

interface Charge {
  key: string;
  policy: ThrottlePolicy;
  /** The account's counter (else the client address's): it alone can lock, and a success may reset it. */
  account: boolean;
}

export interface AttemptSubject {
  /** accountThrottleKey(userId), unknownAccountThrottleKey(email), or null when there is no account at all. */
  accountKey: string | null;
  /** The account, when known: audited and emailed when its second factors get locked. */
  userId: string | null;
  kind: AttemptKind;
  context: RequestContext;
}

interface Charged {
  /** The refusal to answer, when a counter refused the attempt (it is then not evaluated). */
  refused: Throttled | null;
  charges: Charge[];
  /** This charge reached the account's lock: it sticks, and is reported, if the attempt fails. */
  locksIfFailed: boolean;
  /** When the account's second factors were locked (by this charge or before), or null. */
  lockedAt: number | null;
}

/**
 * Charges one attempt to the client address and to the account before anything is evaluated. A backend's
 * calls with an API key carry the backend's address, not the user's, so only the account is charged then.
 * When the account refuses, the address's charge stays (one transaction, committed): the address did send
 * the attempt, and it counts toward the address's limit even though nothing was evaluated (security.md).
 */
async function charge(
  deps: ServiceDeps,
  subject: AttemptSubject,
  whenCharged: (() => void) | undefined,
): Promise<Charged> {
  const { address, account } = policies(deps);
  const now = deps.clock.now();
  const charged: Charged = { refused: null, charges: [], locksIfFailed: false, lockedAt: null };
  const wanted: Charge[] = [];
  if (subject.context.ip && !subject.context.viaBackend) {
    wanted.push({ key: addressKey(subject.context.ip), policy: address, account: false });
  }
  if (subject.accountKey) wanted.push({ key: subject.accountKey, policy: account, account: true });
  const stopped = await withCounters(deps, subject.context, async (into) => {
    for (const next of wanted) {
      const verdict = await into.chargeAttempt(next.key, next.policy, subject.kind, now);
      if (next.account) charged.lockedAt = verdict.lockedAt;
      if (!verdict.charged) return { by: next, verdict };
      charged.charges.push(next);
      if (next.account) charged.locksIfFailed = verdict.lockedNow;
    }
    whenCharged?.();
    return undefined;
  });
  if (stopped) {
    // Every refusal is audited (STANDARDS req 50): who was refused, from where, and for how long.
    deps.metrics?.attemptThrottled(subject.kind);
    charged.refused = refusal(stopped.verdict);
    const written = await appendWithCarried(deps.store, subject.context, [
      auditEvent(now, 'rate_limited', 'failure', subject.userId, subject.context, {
        scope: stopped.by.account ? 'account' : 'address',
        step: subject.kind,
        reason: stopped.verdict.reason,
        retryAfterSeconds: charged.refused.retryAfterSeconds ?? null,
      }),
    ]);
    written();
  }
  return charged;
}

/**
 * Runs `work` on the failed-attempt counters. When they live in the database, the address's and the
 * account's changes share one transaction, so an attempt costs one durable commit, not two; Redis counters
 * take each call as it comes. (Lock order on PostgreSQL: address row, then account row, always.)
 *
 * The charge is an operation's first write: the audit events its context carries (an API key's use,
 * audit/carried-audit.ts) commit in the charge's transaction, so nothing the attempt does is on record
 * without them, and they cost no commit of their own. With Redis counters they wait for the operation's
 * first audited write in the database.
 */
async function withCounters<T>(
  deps: ServiceDeps,
  context: RequestContext | null,
  work: (into: AttemptCounters) => Promise<T>,
): Promise<T> {
  if (deps.attemptCounters) return work(deps.attemptCounters);
  const carried = context?.carriedAudit?.pending() ?? [];
  const result = await deps.store.transaction(async (tx) => {
    if (carried.length > 0) await tx.appendAuditEvents(carried);
    return work(tx);
  });
  context?.carriedAudit?.written(carried);
  return result;
}

/** The lock the attempt made or met, when there is one and an account to report it to. */
function lockOf(subject: AttemptSubject, lockedAt: number | null): AccountLock | null {
  if (lockedAt === null || !subject.accountKey || !subject.userId) return null;
  return { accountKey: subject.accountKey, userId: subject.userId, lockedAt, context: subject.context };
}

async function settle(
  deps: ServiceDeps,
  into: AttemptCounters,
  charges: Charge[],
  accountMode: SettleMode,
): Promise<void> {
  const now = deps.clock.now();
  for (const { key, policy, account } of charges) {
    await into.settleAttempt(key, policy, account ? accountMode : 'refund', now);
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
  const lock = lockOf(subject, charged.lockedAt);
  // A lock made earlier, met by this attempt: reported first if the process that made it died unreported.
  if (lock && !charged.locksIfFailed) await reportOverdueLock(deps, lock);
  if (charged.refused) return charged.refused;
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
      await withCounters(deps, null, (into) =>
        settle(deps, into, charged.charges, settleAccount(result.value)),
      );
    }
  }
  // The charge that reaches the lock only sticks if the attempt failed (a success gives it back). The lock
  // committed with the charge; this report commits after it (lock-report.ts says what a crash between does).
  else if (lock && charged.locksIfFailed) await reportLock(deps, lock);
  return result;
}
