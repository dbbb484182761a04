import { recoveryCodeGenerationRefusal } from '../../core/policy.js';
import type { FactorKind, FactorRecord, Store, UserRecord } from '../../store/store.js';
import { loadRecoveryCodeSettings } from '../admin/settings.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import {
  type IssuedRecoveryCodeSet,
  prepareRecoveryCodeSet,
} from '../recovery-codes/prepare-recovery-code-set.js';
import { hasConfirmedFactor } from './mfa-state.js';

export interface FactorConfirmation {
  factorId: string;
  /** True when this factor turned two-factor authentication on. */
  mfaEnabled: boolean;
  /** The first recovery codes, shown exactly once; null when the user already has a set or may not have one. */
  recoveryCodes: IssuedRecoveryCodeSet | null;
}

/**
 * Confirms a pending factor once the user proved they hold it. When this turns two-factor on and the
 * operator allows it, the first recovery-code set is created in the same transaction, so a user never
 * ends up with two-factor on and codes promised but missing. Undefined when the enrollment was gone.
 */
export async function completeEnrollment(
  deps: ServiceDeps,
  input: {
    user: UserRecord;
    factors: readonly FactorRecord[];
    factor: { id: string };
    kind: FactorKind;
    /**
     * How the factor becomes confirmed, in the transaction: a pending factor is confirmed (the default); a
     * security key is created now. False when it lost (already confirmed, gone, or taken).
     */
    persist?: (tx: Store) => Promise<boolean>;
    now: Date;
    /** TOTP: the step of the enrolling code, recorded as used so it cannot sign in again (RFC 6238 5.2). */
    totpStep?: number;
    context: RequestContext;
  },
): Promise<FactorConfirmation | undefined> {
  const { store } = deps;
  const { user, factor, now } = input;
  const firstFactor = !hasConfirmedFactor(input.factors);
  const codeSettings = await loadRecoveryCodeSettings(store);
  const wantsCodes =
    firstFactor &&
    recoveryCodeGenerationRefusal(codeSettings, { roles: user.roles, mfaEnabled: true }) === undefined &&
    (await store.getRecoveryCodeSummary(user.id)) === undefined;
  const prepared = wantsCodes ? await prepareRecoveryCodeSet(deps, codeSettings) : undefined;

  return store.transaction(async (tx) => {
    const confirmed = input.persist
      ? await input.persist(tx)
      : (await tx.confirmFactor(user.id, factor.id, now)).confirmed;
    if (!confirmed) return undefined;
    if (input.totpStep !== undefined) await tx.recordTotpStep(factor.id, input.totpStep, now);
    const events = [
      auditEvent(now, 'factor_added', 'success', user.id, input.context, {
        factorId: factor.id,
        kind: input.kind,
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
    return { factorId: factor.id, mfaEnabled: firstFactor, recoveryCodes: prepared?.issued ?? null };
  });
}
