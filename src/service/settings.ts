import {
  DEFAULT_RECOVERY_CODE_SETTINGS,
  type RecoveryCodeSettings,
  validateRecoveryCodeSettings,
} from '../core/policy.js';
import { fail, ok, type Result } from '../core/result.js';
import type { Store } from '../store/store.js';
import { auditEvent } from './audit.js';
import type { RequestContext, ServiceDeps } from './deps.js';

const RECOVERY_CODE_SETTINGS_KEY = 'recovery_codes';

/** The operator's recovery-code settings: what is stored, over the defaults. */
export async function loadRecoveryCodeSettings(store: Store): Promise<RecoveryCodeSettings> {
  const stored = (await store.getSetting(RECOVERY_CODE_SETTINGS_KEY)) as
    | Partial<RecoveryCodeSettings>
    | undefined;
  const settings = { ...DEFAULT_RECOVERY_CODE_SETTINGS, ...stored };
  return { ...settings, format: { ...DEFAULT_RECOVERY_CODE_SETTINGS.format, ...stored?.format } };
}

export type SettingsUpdate = Partial<Omit<RecoveryCodeSettings, 'format'>> & {
  format?: Partial<RecoveryCodeSettings['format']>;
};

/** Changes the recovery-code settings; the audit event carries the values before and after. */
export async function updateRecoveryCodeSettings(
  deps: ServiceDeps,
  update: SettingsUpdate,
  context: RequestContext,
): Promise<Result<RecoveryCodeSettings, 'invalid_code_format'> & { problems?: string[] }> {
  return deps.store.transaction(async (tx) => {
    const before = await loadRecoveryCodeSettings(tx);
    const after: RecoveryCodeSettings = {
      ...before,
      ...update,
      format: { ...before.format, ...update.format },
    };
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
    return ok(after);
  });
}
