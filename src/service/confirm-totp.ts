import { recoveryCodeGenerationRefusal } from '../core/policy.js';
import { fail, ok, type Result } from '../core/result.js';
import { auditEvent } from './audit.js';
import type { RequestContext, ServiceDeps } from './deps.js';
import { hasConfirmedFactor } from './mfa-state.js';
import { type IssuedRecoveryCodeSet, prepareRecoveryCodeSet } from './prepare-recovery-code-set.js';
import { loadRecoveryCodeSettings } from './settings.js';
import { checkFactorCode, openTotpFactorSecret } from './totp-factor-secret.js';

export interface TotpConfirmation {
  factorId: string;
  /** True when this factor turned two-factor authentication on. */
  mfaEnabled: boolean;
  /** The first recovery codes, shown exactly once; null when the user already has a set or may not have one. */
  recoveryCodes: IssuedRecoveryCodeSet | null;
}

/**
 * Completes an authenticator-app enrollment with the first correct code. When this turns two-factor on
 * and the operator allows it, the first recovery-code set is created in the same transaction, so a user
 * never ends up with two-factor on and codes promised but missing.
 */
export async function confirmTotp(
  deps: ServiceDeps,
  input: { userId: string; factorId: string; code: string; context: RequestContext },
): Promise<Result<TotpConfirmation, 'enrollment_not_found' | 'invalid_code'>> {
  const { store, clock } = deps;
  const [user, factors] = await Promise.all([
    store.findUserById(input.userId),
    store.listFactors(input.userId),
  ]);
  const factor = factors.find((candidate) => candidate.id === input.factorId);
  if (!user || !factor || factor.kind !== 'totp' || factor.confirmedAt !== null)
    return fail('enrollment_not_found');
  const seed = openTotpFactorSecret(deps, factor);
  // An enrollment whose seed does not authenticate cannot be confirmed: the user starts again.
  if (!seed) return fail('enrollment_not_found');

  const now = clock.now();
  const check = checkFactorCode(deps, seed, { code: input.code, now, lastUsedStep: null });
  if (!check.ok) {
    await store.appendAuditEvent(
      auditEvent(now, 'totp_failed', 'failure', user.id, input.context, {
        factorId: factor.id,
        reason: check.reason,
      }),
    );
    return fail('invalid_code');
  }

  const firstFactor = !hasConfirmedFactor(factors);
  const codeSettings = await loadRecoveryCodeSettings(store);
  const wantsCodes =
    firstFactor &&
    recoveryCodeGenerationRefusal(codeSettings, { roles: user.roles, mfaEnabled: true }) === undefined &&
    (await store.getRecoveryCodeSummary(user.id)) === undefined;
  const prepared = wantsCodes ? await prepareRecoveryCodeSet(deps, codeSettings) : undefined;

  return store.transaction(async (tx) => {
    const { confirmed } = await tx.confirmFactor(user.id, factor.id, now);
    if (!confirmed) return fail('enrollment_not_found');
    // The enrolling code's step counts as used, so it cannot sign in a second time (RFC 6238 5.2).
    await tx.recordTotpStep(factor.id, check.step, now);
    const events = [
      auditEvent(now, 'factor_added', 'success', user.id, input.context, {
        factorId: factor.id,
        kind: 'totp',
      }),
    ];
    if (firstFactor) events.push(auditEvent(now, 'mfa_enabled', 'success', user.id, input.context));
    if (prepared) {
      await tx.replaceRecoveryCodeSet(user.id, prepared.stored);
      events.push(
        auditEvent(now, 'recovery_codes_generated', 'success', user.id, input.context, {
          setId: prepared.issued.setId,
          count: prepared.issued.codes.length,
        }),
      );
    }
    for (const event of events) await tx.appendAuditEvent(event);
    return ok({ factorId: factor.id, mfaEnabled: firstFactor, recoveryCodes: prepared?.issued ?? null });
  });
}
