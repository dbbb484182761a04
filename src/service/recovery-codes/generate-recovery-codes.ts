import { type GenerationRefusal, recoveryCodeGenerationRefusal } from '../../core/policy.js';
import { fail, ok, type Result } from '../../core/result.js';
import { loadRecoveryCodeSettings } from '../admin/settings.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { isMfaEnabled } from '../factors/mfa-state.js';
import { notifyRecoveryCodesRegenerated } from '../notifications/notifications.js';
import { emitWebhookEvent } from '../webhooks/webhooks.js';
import { type IssuedRecoveryCodeSet, prepareRecoveryCodeSet } from './prepare-recovery-code-set.js';

/**
 * Creates a new recovery-code set, replacing any existing one in the same transaction: the old codes die
 * the moment the new ones exist (STANDARDS req 12). The codes are returned once and never again.
 * Step-up (a fresh second factor) is the edge's duty before calling this (STANDARDS req 11).
 */
export async function generateRecoveryCodes(
  deps: ServiceDeps,
  input: { userId: string; context: RequestContext },
): Promise<Result<IssuedRecoveryCodeSet, 'user_not_found' | GenerationRefusal>> {
  const { store, clock } = deps;
  const user = await store.findUserById(input.userId);
  if (!user) return fail('user_not_found');
  const settings = await loadRecoveryCodeSettings(store);
  const refusal = recoveryCodeGenerationRefusal(settings, {
    roles: user.roles,
    mfaEnabled: await isMfaEnabled(store, user.id),
  });
  if (refusal) {
    await store.appendAuditEvent(
      auditEvent(clock.now(), 'recovery_codes_generated', 'failure', user.id, input.context, {
        reason: refusal,
      }),
    );
    return fail(refusal);
  }
  const prepared = await prepareRecoveryCodeSet(deps, settings);
  const replaced = await store.transaction(async (tx) => {
    const replacing = (await tx.getRecoveryCodeSummary(user.id)) !== undefined;
    await tx.replaceRecoveryCodeSet(user.id, prepared.stored);
    await tx.appendAuditEvent(
      auditEvent(
        prepared.issued.generatedAt,
        replacing ? 'recovery_codes_regenerated' : 'recovery_codes_generated',
        'success',
        user.id,
        input.context,
        { setId: prepared.issued.setId, count: prepared.issued.codes.length },
      ),
    );
    if (replacing) {
      await emitWebhookEvent(deps, tx, {
        type: 'recovery_codes.regenerated',
        at: prepared.issued.generatedAt,
        userId: user.id,
        context: input.context,
        data: { reason: 'user', count: prepared.issued.codes.length },
      });
    }
    return replacing;
  });
  if (replaced) {
    await notifyRecoveryCodesRegenerated(deps, {
      userId: user.id,
      at: prepared.issued.generatedAt,
      count: prepared.issued.codes.length,
      context: input.context,
    });
  }
  return ok(prepared.issued);
}
