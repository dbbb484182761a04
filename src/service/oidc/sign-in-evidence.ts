import { accountLabel } from '../accounts/account-label.js';
import { loadRecoveryCodeSettings } from '../admin/settings.js';
import type { ServiceDeps } from '../deps.js';
import { hasConfirmedFactor } from '../factors/mfa-state.js';

/** The `acr` values SpareKey issues: one factor (the password) or two. */
export const ACR_ONE_FACTOR = 'urn:sparekey:acr:1fa';
export const ACR_TWO_FACTORS = 'urn:sparekey:acr:2fa';

/**
 * What an application is told about how the person signed in (`amr`, RFC 8176 section 2), from the way
 * the SpareKey session was signed in. A recovery code is named (`recovery_code`, not a registered
 * value: RFC 8176 allows others) so an application can tell it from a day-to-day second factor.
 */
export function amrFor(signInMethod: string | null | undefined): string[] {
  switch (signInMethod) {
    case 'totp':
    case 'email':
      return ['pwd', 'otp', 'mfa'];
    case 'recovery_code':
      return ['pwd', 'mfa', 'recovery_code'];
    case 'security_key':
    case 'webauthn':
      return ['pwd', 'hwk', 'mfa'];
    case 'passkey':
      // A passkey with user verification: the key, and the PIN or biometric that unlocked it.
      return ['hwk', 'user', 'mfa'];
    case 'remembered_device':
      // The second factor was proven on this browser within the remembered period (30 days).
      return ['pwd', 'mfa', 'remembered_device'];
    default:
      // The password alone, or a session from before the method was recorded: never more than one factor.
      return ['pwd'];
  }
}

export const isTwoFactor = (amr: readonly string[]): boolean => amr.includes('mfa');

export const acrFor = (amr: readonly string[]): string =>
  isTwoFactor(amr) ? ACR_TWO_FACTORS : ACR_ONE_FACTOR;

/** Whether this person must sign in with two factors for this application (its rule, or their role's). */
export async function twoFactorsRequired(
  deps: ServiceDeps,
  input: { userId: string; roles: readonly string[]; clientRequiresTwo: boolean },
): Promise<{ required: boolean; hasSecondFactor: boolean }> {
  const hasSecondFactor = hasConfirmedFactor(await deps.store.listFactors(input.userId));
  if (input.clientRequiresTwo) return { required: true, hasSecondFactor };
  // The operator's "these roles must use two-factor" holds for applications too.
  const { mfaRequiredRoles } = await loadRecoveryCodeSettings(deps.store);
  return { required: input.roles.some((role) => mfaRequiredRoles.includes(role)), hasSecondFactor };
}

/** The claims an application may receive, by scope (openid, email, profile, groups). */
export async function accountClaims(
  deps: ServiceDeps,
  userId: string,
): Promise<Record<string, unknown> | undefined> {
  const user = await deps.store.findUserById(userId);
  if (!user) return undefined;
  const factors = await deps.store.listFactors(userId);
  return {
    sub: user.id,
    // A host application's user may have no address: then no email claims at all.
    ...(user.email === null
      ? {}
      : {
          email: user.email,
          // Verified means proven: the person confirmed a code sent to this address (the email factor).
          email_verified: factors.some((factor) => factor.kind === 'email' && factor.confirmedAt !== null),
        }),
    // SpareKey keeps no display name: the name a person recognises is the account's label.
    name: accountLabel(user),
    groups: user.roles,
  };
}
