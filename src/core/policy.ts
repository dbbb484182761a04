import {
  DEFAULT_RECOVERY_CODE_FORMAT,
  type RecoveryCodeFormat,
  validateRecoveryCodeOptions,
} from './recovery-code.js';

/**
 * What happens after a recovery code signs someone in. The policies of well-known services:
 * - `continue`: the code signs you in and the rest of the set stays valid (GitHub, Google, most services);
 * - `disable_mfa`: the code signs you in and turns two-factor off, so you set it up again (WPX);
 * - `rotate`: the used set is replaced by a fresh one, shown once (Auth0's single code is `rotate` with 1 code).
 */
export const postRecoveryPolicies = ['continue', 'disable_mfa', 'rotate'] as const;
export type PostRecoveryPolicy = (typeof postRecoveryPolicies)[number];

export const builtInRoles = ['administrator', 'editor', 'author', 'subscriber'] as const;
export const DEFAULT_USER_ROLE = 'subscriber';
/** The role of the accounts that run the site: the last one can be neither deleted nor demoted. */
export const ADMINISTRATOR_ROLE = 'administrator';

/** The operator's recovery-code settings (stored in the database, changed from the admin console). */
export interface RecoveryCodeSettings {
  /** Master switch. Off by default, as in Auth0: nobody can generate or use codes while it is off. */
  enabled: boolean;
  /** Roles whose members may generate codes. */
  allowedRoles: readonly string[];
  codesPerSet: number;
  format: RecoveryCodeFormat;
  /** `low` is reported when 0 < remaining <= lowThreshold. */
  lowThreshold: number;
  policy: PostRecoveryPolicy;
  /** Members of these roles must set up two-factor authentication before they can do anything else. */
  mfaRequiredRoles: readonly string[];
}

export const DEFAULT_RECOVERY_CODE_SETTINGS: RecoveryCodeSettings = Object.freeze({
  enabled: false,
  allowedRoles: builtInRoles,
  // "most services provide the user with ten backup codes" (OWASP Forgot Password CS, historical).
  codesPerSet: 10,
  format: DEFAULT_RECOVERY_CODE_FORMAT,
  lowThreshold: 3,
  policy: 'continue',
  mfaRequiredRoles: [],
});

/** Human-readable problems with a settings document; empty when it can be saved. */
export function validateRecoveryCodeSettings(settings: RecoveryCodeSettings): string[] {
  const problems = validateRecoveryCodeOptions({ count: settings.codesPerSet, format: settings.format });
  if (!postRecoveryPolicies.includes(settings.policy)) {
    problems.push(`The post-recovery policy must be one of ${postRecoveryPolicies.join(', ')}.`);
  }
  if (!Number.isInteger(settings.lowThreshold) || settings.lowThreshold < 0) {
    problems.push('The low-on-codes threshold must be a whole number of codes, 0 or more.');
  } else if (settings.lowThreshold >= settings.codesPerSet) {
    problems.push('The low-on-codes threshold must be smaller than the number of codes per set.');
  }
  if (
    ![...settings.allowedRoles, ...settings.mfaRequiredRoles].every(
      (role) => typeof role === 'string' && role.length > 0,
    )
  ) {
    problems.push('Roles must be non-empty names.');
  }
  return problems;
}

/**
 * A low-on-codes threshold the set size can use. "Low" is 0 < remaining <= threshold, so a threshold of
 * the set size or more would call every fresh set low: it cannot apply, and is lowered to one below the
 * set size. With one code per set (Auth0's single code, the `rotate` policy) that is 0: no warning, as the
 * only code's use replaces the set anyway. Returns the settings unchanged when the threshold fits or when
 * the numbers are not valid at all (validation reports those).
 */
export function fitLowThreshold(settings: RecoveryCodeSettings): {
  settings: RecoveryCodeSettings;
  lowered?: { from: number; to: number };
} {
  const { codesPerSet, lowThreshold } = settings;
  if (!Number.isInteger(codesPerSet) || codesPerSet < 1 || !Number.isInteger(lowThreshold))
    return { settings };
  if (lowThreshold < codesPerSet) return { settings };
  const to = codesPerSet - 1;
  return { settings: { ...settings, lowThreshold: to }, lowered: { from: lowThreshold, to } };
}

export type GenerationRefusal = 'feature_disabled' | 'role_not_allowed' | 'mfa_not_enabled';

/** Whether a user may generate codes: the switch is on, one of their roles is allowed, and MFA is on. */
export function recoveryCodeGenerationRefusal(
  settings: RecoveryCodeSettings,
  user: { roles: readonly string[]; mfaEnabled: boolean },
): GenerationRefusal | undefined {
  if (!settings.enabled) return 'feature_disabled';
  if (!user.roles.some((role) => settings.allowedRoles.includes(role))) return 'role_not_allowed';
  if (!user.mfaEnabled) return 'mfa_not_enabled';
  return undefined;
}

/** NIST SP 800-63B 6.1.2.1 encourages keeping more than one authenticator: warn before the last code. */
export function isLowOnRecoveryCodes(remaining: number, lowThreshold: number): boolean {
  return remaining > 0 && remaining <= lowThreshold;
}

/** Role names administrators can add: short, lowercase, URL- and CSV-safe. */
export const ROLE_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/** Whether this user must set up two-factor before doing anything else. */
export function mfaSetupRequired(
  settings: RecoveryCodeSettings,
  user: { roles: readonly string[]; mfaEnabled: boolean },
) {
  return !user.mfaEnabled && user.roles.some((role) => settings.mfaRequiredRoles.includes(role));
}
