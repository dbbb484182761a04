import { isLockReportOverdue } from '../../core/throttle.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { emitWebhookEvent } from '../webhooks/webhooks.js';
import { policies } from './throttle-counters.js';
import { sendUnlockLink } from './unlock-link.js';

/** One lock of an account's second factors: its throttle key and the time its charge made it. */
export interface AccountLock {
  accountKey: string;
  userId: string;
  lockedAt: number;
  /** The attempt that reports it (the one that made the lock, or a later one that met it). */
  context: RequestContext;
}

/**
 * Reports a lock (RFC 4226 7.2, STANDARDS req 50): the `mfa_locked` audit event and the `mfa.locked`
 * webhook outbox row, in one transaction with the claim that makes this the lock's only report, then the
 * unlock email. The lock itself was committed earlier, with the charge of the attempt that reached it;
 * a process that dies before this leaves the lock unreported, and reportOverdueLock finds it later.
 */
export async function reportLock(deps: ServiceDeps, lock: AccountLock): Promise<void> {
  const at = deps.clock.now();
  const reported = await deps.store.transaction(async (tx) => {
    const { claimed } = await tx.claimLockReport(lock.accountKey, lock.lockedAt, at);
    if (!claimed) return false;
    await tx.appendAuditEvent(
      auditEvent(at, 'mfa_locked', 'failure', lock.userId, lock.context, {
        failures: policies(deps).account.lockAfter,
        lockedAt: new Date(lock.lockedAt).toISOString(),
      }),
    );
    await emitWebhookEvent(deps, tx, { type: 'mfa.locked', at, userId: lock.userId, context: lock.context });
    return true;
  });
  // An email cannot join a transaction. If the process dies right here the lock is reported but not
  // emailed; signing in with the password while locked emails a link (accounts.ts), as it always does.
  if (reported) await sendUnlockLink(deps, { userId: lock.userId, context: lock.context, reason: 'locked' });
}

/**
 * For an attempt that meets a lock it did not make: reports the lock if the attempt that made it has had
 * its time (core LOCK_REPORT_GRACE_MS) and nobody has reported it, i.e. its process died in between.
 * A read first, so attempts on a reported lock (every refused one) add no write. The purge deletes a
 * report once its lock is over (purge.ts); with Redis counters only after a year, so a lock standing that
 * long is reported once more.
 */
export async function reportOverdueLock(deps: ServiceDeps, lock: AccountLock): Promise<void> {
  if (!isLockReportOverdue(lock.lockedAt, deps.clock.now().getTime())) return;
  if (await deps.store.isLockReported(lock.accountKey, lock.lockedAt)) return;
  await reportLock(deps, lock);
}
