import { fail, ok, type Result } from '../../core/result.js';
import type { FactorKind } from '../../store/store.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { notifySecurityKeyChanged } from '../notifications/notifications.js';
import { getRecoveryCodeStatus, type RecoveryCodeStatus } from '../recovery-codes/recovery-code-status.js';
import { listRememberedDevices } from '../sessions/remembered-devices.js';
import {
  authorizeChange,
  type ChangeAuthority,
  rotateWithChange,
  type SessionRotation,
} from '../sign-in/change-authority.js';
import { emitWebhookEvent } from '../webhooks/webhooks.js';
import { listSecurityKeys, type SecurityKeySummary } from './webauthn/manage-keys.js';

/** The kinds of second factor, as results name them (`FactorRemoval.kind`, `MfaOverview.factors`). */
export type { FactorKind };

export interface MfaOverview {
  factors: { id: string; kind: FactorKind; addedAt: Date; lastUsedAt: Date | null }[];
  mfaEnabled: boolean;
  recoveryCodes: RecoveryCodeStatus;
  /** The current set's used codes by their place on the printed sheet (1-based), with when: never a code. */
  recoveryCodeUses: { position: number; usedAt: Date }[];
  /** Browsers the user asked to remember (second step skipped for 30 days). */
  devices: { id: string; label: string; addedAt: Date; lastUsedAt: Date | null; expiresAt: Date }[];
  emailCodesAvailable: boolean;
  /** The user's security keys and passkeys, with their names and types. */
  securityKeys: SecurityKeySummary[];
  /** Whether this server offers security keys (WebAuthn settings present). */
  securityKeysAvailable: boolean;
}

/** What Settings → Two-factor authentication shows: confirmed factors and the recovery-code count. */
export async function getMfaOverview(deps: ServiceDeps, input: { userId: string }): Promise<MfaOverview> {
  const [factors, recoveryCodes, slots, devices, securityKeys] = await Promise.all([
    deps.store.listFactors(input.userId),
    getRecoveryCodeStatus(deps, input),
    deps.store.listRecoveryCodeSlots(input.userId),
    listRememberedDevices(deps, input.userId),
    listSecurityKeys(deps, input),
  ]);
  const confirmed = factors.filter((factor) => factor.confirmedAt !== null);
  return {
    factors: confirmed.map((factor) => ({
      id: factor.id,
      kind: factor.kind,
      addedAt: factor.confirmedAt as Date,
      lastUsedAt: factor.lastUsedAt,
    })),
    mfaEnabled: confirmed.length > 0,
    recoveryCodes,
    // The sheet lists codes in slot order, so a slot's rank is its line on the sheet.
    recoveryCodeUses: slots.flatMap((code, index) =>
      code.usedAt ? [{ position: index + 1, usedAt: code.usedAt }] : [],
    ),
    devices: devices.map((device) => ({
      id: device.id,
      label: device.label,
      addedAt: device.createdAt,
      lastUsedAt: device.lastUsedAt,
      expiresAt: device.expiresAt,
    })),
    emailCodesAvailable: deps.options.emailOtp.enabled,
    securityKeys,
    securityKeysAvailable: deps.options.webauthn !== undefined,
  };
}

/** Whether `factorId` is one of the user's confirmed factors: checked before a step-up is spent on it. */
export async function hasFactor(
  deps: ServiceDeps,
  input: { userId: string; factorId: string },
): Promise<boolean> {
  const factors = await deps.store.listFactors(input.userId);
  return factors.some((factor) => factor.id === input.factorId && factor.confirmedAt !== null);
}

/** A removed factor's kind; `token` is the session's new token when an end user's step-up authorised it. */
export type FactorRemoval = { kind: FactorKind } & SessionRotation;

/** Two-factor turned off: how many factors went; `token` as for FactorRemoval. */
export type MfaDisabled = { factorsRemoved: number } & SessionRotation;

/**
 * Removes one of several factors. The last one cannot be removed this way: that is "turn two-factor
 * off", which also deletes the recovery codes (a set without a factor would be a lone password bypass).
 * It requires an authority: an end user's step-up proof (its session gets a new token, returned as
 * `token`) or a backend's. With `kind`, only a factor of that kind is removed (a route for security keys
 * never removes an authenticator app named by mistake): any other is not found.
 */
export async function removeFactor(
  deps: ServiceDeps,
  input: {
    userId: string;
    factorId: string;
    kind?: FactorKind;
    authority: ChangeAuthority;
    context: RequestContext;
  },
): Promise<Result<FactorRemoval, 'factor_not_found' | 'last_factor' | 'not_signed_in'>> {
  const now = deps.clock.now();
  const { sessionToken } = authorizeChange(input.authority, input.userId);
  const removed = await deps.store.transaction(async (tx) => {
    const factors = (await tx.listFactors(input.userId)).filter((factor) => factor.confirmedAt !== null);
    const factor = factors.find(
      (candidate) => candidate.id === input.factorId && (!input.kind || candidate.kind === input.kind),
    );
    if (!factor) return fail('factor_not_found');
    if (factors.length === 1) return fail('last_factor');
    const { userId, context } = input;
    const rotated = await rotateWithChange(deps, tx, { sessionToken, userId, context });
    if (!rotated) return fail('not_signed_in');
    const name =
      factor.kind === 'webauthn'
        ? ((await tx.listWebauthnCredentials(input.userId)).find((key) => key.id === factor.id)?.name ?? null)
        : null;
    await tx.deleteFactor(input.userId, factor.id);
    await tx.appendAuditEvent(
      auditEvent(now, 'factor_removed', 'success', input.userId, input.context, {
        factorId: factor.id,
        kind: factor.kind,
      }),
    );
    if (factor.kind === 'webauthn') {
      await emitWebhookEvent(deps, tx, {
        type: 'security_key.removed',
        at: now,
        userId: input.userId,
        context: input.context,
        data: { factorId: factor.id },
      });
    }
    return ok({ kind: factor.kind, name, rotation: rotated.rotation });
  });
  if (!removed.ok) return removed;
  if (removed.value.kind === 'webauthn') {
    const { userId, context } = input;
    await notifySecurityKeyChanged(deps, {
      userId,
      change: 'removed',
      name: removed.value.name,
      at: now,
      context,
    });
  }
  return ok({ kind: removed.value.kind, ...removed.value.rotation });
}

/**
 * Turns two-factor off: every factor and the recovery-code set go in one transaction. It requires an
 * authority, as removeFactor.
 */
export async function disableMfa(
  deps: ServiceDeps,
  input: { userId: string; authority: ChangeAuthority; context: RequestContext },
): Promise<Result<MfaDisabled, 'mfa_not_enabled' | 'not_signed_in'>> {
  const { sessionToken } = authorizeChange(input.authority, input.userId);
  return deps.store.transaction(async (tx) => {
    const confirmed = (await tx.listFactors(input.userId)).filter((factor) => factor.confirmedAt !== null);
    if (confirmed.length === 0) return fail('mfa_not_enabled');
    const { userId, context } = input;
    const rotated = await rotateWithChange(deps, tx, { sessionToken, userId, context });
    if (!rotated) return fail('not_signed_in');
    const now = deps.clock.now();
    const factorsRemoved = await tx.deleteAllFactors(input.userId);
    const { deleted } = await tx.deleteRecoveryCodeSet(input.userId);
    const devicesForgotten = await tx.forgetRememberedDevices(input.userId, null);
    await tx.appendAuditEvent(
      auditEvent(now, 'mfa_disabled', 'success', input.userId, input.context, {
        reason: 'user',
        factorsRemoved,
        devicesForgotten,
      }),
    );
    if (deleted) {
      await tx.appendAuditEvent(
        auditEvent(now, 'recovery_codes_deleted', 'success', input.userId, input.context, {
          reason: 'mfa_disabled',
        }),
      );
    }
    return ok({ factorsRemoved, ...rotated.rotation });
  });
}

/** Which second factors the sign-in step can offer this user. */
export async function secondFactorChoices(
  deps: ServiceDeps,
  input: { userId: string },
): Promise<{ securityKey: boolean; totp: boolean; email: boolean; recoveryCode: boolean }> {
  const [factors, status] = await Promise.all([
    deps.store.listFactors(input.userId),
    getRecoveryCodeStatus(deps, input),
  ]);
  const has = (kind: FactorKind) =>
    factors.some((factor) => factor.kind === kind && factor.confirmedAt !== null);
  return {
    securityKey: has('webauthn') && deps.options.webauthn !== undefined,
    totp: has('totp'),
    email: has('email') && deps.options.emailOtp.enabled,
    // The link is always shown while the feature is on, so it does not reveal whether codes exist.
    recoveryCode: status.enabled,
  };
}
