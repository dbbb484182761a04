import { fail, ok, type Result } from '../../core/result.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { notifyMfaReset } from '../notifications/notifications.js';
import { clearAccountThrottle } from '../throttle/throttle-counters.js';
import { emitWebhookEvent } from '../webhooks/webhooks.js';

export const MAX_RESET_REASON_LENGTH = 500;

/** What a reset removed. */
export interface MfaReset {
  factorsRemoved: number;
  sessionsEnded: number;
}

/**
 * The support path for someone who lost every factor: an administrator removes all of the user's factors
 * and recovery codes and ends all of their sessions in one transaction, with the reason in the audit log,
 * then the user is told by email. The user signs in with their password and sets two-factor up again.
 */
export async function resetUserMfa(
  deps: ServiceDeps,
  input: { userId: string; reason: string; context: RequestContext & { actorId: string } },
): Promise<Result<MfaReset, 'user_not_found' | 'reason_required'>> {
  const reason = input.reason.trim();
  if (reason.length === 0 || reason.length > MAX_RESET_REASON_LENGTH) return fail('reason_required');
  const user = await deps.store.findUserById(input.userId);
  if (!user) return fail('user_not_found');
  const now = deps.clock.now();
  const outcome = await deps.store.transaction(async (tx) => {
    const factorsRemoved = await tx.deleteAllFactors(user.id);
    const { deleted } = await tx.deleteRecoveryCodeSet(user.id);
    const sessionsEnded = await tx.deleteUserSessions(user.id);
    // A remembered browser would skip the second step the reset is meant to restore.
    const devicesForgotten = await tx.forgetRememberedDevices(user.id, null);
    await tx.appendAuditEvent(
      auditEvent(now, 'mfa_reset', 'success', user.id, input.context, {
        reason,
        factorsRemoved,
        recoveryCodesDeleted: deleted,
        sessionsEnded,
        devicesForgotten,
      }),
    );
    await emitWebhookEvent(deps, tx, {
      type: 'mfa.reset_by_admin',
      at: now,
      userId: user.id,
      context: input.context,
      data: { actorId: input.context.actorId, factorsRemoved, recoveryCodesDeleted: deleted },
    });
    return { factorsRemoved, sessionsEnded };
  });
  // A reset is the administrator's unlock: the failures and any lock start over (after the commit, as the
  // counters may live in Redis).
  await clearAccountThrottle(deps, user.id);
  await notifyMfaReset(deps, { userId: user.id, at: now, context: input.context });
  return ok(outcome);
}
