import { isLowOnRecoveryCodes } from '../../core/policy.js';
import { loadRecoveryCodeSettings } from '../admin/settings.js';
import type { ServiceDeps } from '../deps.js';

export type RecoveryCodeStatus =
  | { hasCodes: false; enabled: boolean }
  | {
      hasCodes: true;
      enabled: boolean;
      setId: string;
      generatedAt: Date;
      lastUsedAt: Date | null;
      total: number;
      remaining: number;
      /** 0 < remaining <= the operator's threshold (default 3): time to regenerate. */
      low: boolean;
    };

/** How many codes the user has left, for "Recovery codes remaining: K of N" (never the codes). */
export async function getRecoveryCodeStatus(
  deps: ServiceDeps,
  input: { userId: string },
): Promise<RecoveryCodeStatus> {
  const [settings, summary] = await Promise.all([
    loadRecoveryCodeSettings(deps.store),
    deps.store.getRecoveryCodeSummary(input.userId),
  ]);
  if (!summary) return { hasCodes: false, enabled: settings.enabled };
  return {
    hasCodes: true,
    enabled: settings.enabled,
    setId: summary.setId,
    generatedAt: summary.generatedAt,
    lastUsedAt: summary.lastUsedAt,
    total: summary.total,
    remaining: summary.remaining,
    low: isLowOnRecoveryCodes(summary.remaining, settings.lowThreshold),
  };
}
