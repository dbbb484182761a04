import { type GenerationRefusal, recoveryCodeGenerationRefusal } from '../../core/policy.js';
import { fail, ok, type Result } from '../../core/result.js';
import { loadRecoveryCodeSettings } from '../admin/settings.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { isMfaEnabled } from '../factors/mfa-state.js';
import { notifyRecoveryCodesRegenerated } from '../notifications/notifications.js';
import {
  authorizeChange,
  type ChangeAuthority,
  rotateWithChange,
  type SessionRotation,
} from '../sign-in/change-authority.js';
import { emitWebhookEvent } from '../webhooks/webhooks.js';
import { type IssuedRecoveryCodeSet, prepareRecoveryCodeSet } from './prepare-recovery-code-set.js';

/**
 * Creates a new recovery-code set, replacing any existing one in the same transaction: the old codes die
 * the moment the new ones exist (STANDARDS req 12). The codes are returned once and never again.
 * It requires an authority (STANDARDS req 11): an end user's step-up proof, whose session gets a new token
 * in the same transaction (returned as `token`), or a backend's.
 */
export async function generateRecoveryCodes(
  deps: ServiceDeps,
  input: { userId: string; authority: ChangeAuthority; context: RequestContext },
): Promise<
  Result<IssuedRecoveryCodeSet & SessionRotation, 'user_not_found' | 'not_signed_in' | GenerationRefusal>
> {
  const { store, clock } = deps;
  const { sessionToken } = authorizeChange(input.authority, input.userId);
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
    const rotated = await rotateWithChange(deps, tx, {
      sessionToken,
      userId: user.id,
      context: input.context,
    });
    if (!rotated) return undefined;
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
    return { replacing, rotation: rotated.rotation };
  });
  if (!replaced) return fail('not_signed_in');
  if (replaced.replacing) {
    await notifyRecoveryCodesRegenerated(deps, {
      userId: user.id,
      at: prepared.issued.generatedAt,
      count: prepared.issued.codes.length,
      context: input.context,
    });
  }
  return ok({ ...prepared.issued, ...replaced.rotation });
}
