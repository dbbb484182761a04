import {
  DEFAULT_RECOVERY_CODE_SETTINGS,
  fitLowThreshold,
  type RecoveryCodeSettings,
  validateRecoveryCodeSettings,
} from '../../core/policy.js';
import { fail, ok, type Result } from '../../core/result.js';
import type { Store } from '../../store/store.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';

const RECOVERY_CODE_SETTINGS_KEY = 'recovery_codes';

/** The operator's recovery-code settings: what is stored, over the defaults. */
export async function loadRecoveryCodeSettings(store: Store): Promise<RecoveryCodeSettings> {
  const stored = (await store.getSetting(RECOVERY_CODE_SETTINGS_KEY)) as SettingsUpdate | undefined;
  return settingsWith(DEFAULT_RECOVERY_CODE_SETTINGS, stored ?? {});
}

/** The settings as the edges read them (pages, API, library). */
export function getRecoveryCodeSettings(deps: ServiceDeps): Promise<RecoveryCodeSettings> {
  return loadRecoveryCodeSettings(deps.store);
}

export type SettingsUpdate = Partial<Omit<RecoveryCodeSettings, 'format'>> & {
  format?: Partial<RecoveryCodeSettings['format']>;
};

/**
 * `base` with the settings `change` names, key by key: exactly the settings keys, so nothing else a
 * caller or an old row carries is ever stored (issue 18, point 5: unknown keys were kept and the row grew).
 */
function settingsWith(base: RecoveryCodeSettings, change: SettingsUpdate): RecoveryCodeSettings {
  return {
    enabled: change.enabled ?? base.enabled,
    allowedRoles: change.allowedRoles ?? base.allowedRoles,
    codesPerSet: change.codesPerSet ?? base.codesPerSet,
    format: {
      slotLength: change.format?.slotLength ?? base.format.slotLength,
      secretLength: change.format?.secretLength ?? base.format.secretLength,
      groupSize: change.format?.groupSize ?? base.format.groupSize,
    },
    lowThreshold: change.lowThreshold ?? base.lowThreshold,
    policy: change.policy ?? base.policy,
    mfaRequiredRoles: change.mfaRequiredRoles ?? base.mfaRequiredRoles,
  };
}

/**
 * Changes the recovery-code settings; the audit event carries the values before and after. A low-on-codes
 * threshold the set size cannot use is lowered (fitLowThreshold) rather than refused, and `lowered` says
 * so, so that "1 code per set" (Auth0's single code) saves as the settings page promises.
 */
export async function updateRecoveryCodeSettings(
  deps: ServiceDeps,
  update: SettingsUpdate,
  context: RequestContext,
): Promise<
  Result<RecoveryCodeSettings, 'invalid_code_format'> & {
    problems?: string[];
    lowered?: { from: number; to: number };
  }
> {
  return deps.store.transaction(async (tx) => {
    const before = await loadRecoveryCodeSettings(tx);
    const { settings: after, lowered } = fitLowThreshold(settingsWith(before, update));
    const problems = validateRecoveryCodeSettings(after);
    if (problems.length > 0) return { ...fail('invalid_code_format'), problems };
    const now = deps.clock.now();
    await tx.putSetting(RECOVERY_CODE_SETTINGS_KEY, after, now);
    await tx.appendAuditEvent(
      auditEvent(now, 'settings_changed', 'success', null, context, {
        key: RECOVERY_CODE_SETTINGS_KEY,
        before: JSON.stringify(before),
        after: JSON.stringify(after),
      }),
    );
    return { ...ok(after), ...(lowered ? { lowered } : {}) };
  });
}
