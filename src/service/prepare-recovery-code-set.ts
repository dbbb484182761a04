import type { RecoveryCodeSettings } from '../core/policy.js';
import { generateRecoveryCodes } from '../core/recovery-code.js';
import { hashRecoveryCodes } from '../core/recovery-code-digest.js';
import type { NewRecoveryCodeSet } from '../store/store.js';
import type { ServiceDeps } from './deps.js';

/** A set as the user sees it, exactly once: the display form of each code. */
export interface IssuedRecoveryCodeSet {
  setId: string;
  generatedAt: Date;
  /** In the order of the printed sheet (slot order). */
  codes: string[];
}

/**
 * The set's name on the printed sheet and in Settings ("Set 3F9A-21C7"): eight symbols of its id, enough to
 * tell a user's successive sets apart, so they can see whether a saved sheet is the current one.
 */
export function recoveryCodeSetLabel(setId: string): string {
  const symbols = setId
    .replace(/[^0-9a-f]/gi, '')
    .slice(0, 8)
    .toUpperCase();
  return `${symbols.slice(0, 4)}-${symbols.slice(4)}`;
}

/**
 * Generates and hashes a new set, ready to store. The KDF work (one argon2id per code) happens here,
 * before any transaction opens, so no database lock is held while hashing.
 */
export async function prepareRecoveryCodeSet(
  deps: ServiceDeps,
  settings: RecoveryCodeSettings,
): Promise<{ stored: NewRecoveryCodeSet; issued: IssuedRecoveryCodeSet }> {
  // In slot order, so "code 3 on your sheet" (what Settings says was used) names the same code everywhere.
  const codes = generateRecoveryCodes(deps.random, {
    count: settings.codesPerSet,
    format: settings.format,
  }).sort((a, b) => a.slot - b.slot);
  const digests = await hashRecoveryCodes(
    deps.kdf,
    deps.random,
    codes,
    deps.options.kdfParams,
    deps.keys.recoveryCodePepper,
  );
  const setId = deps.random.uuid();
  const generatedAt = deps.clock.now();
  return {
    stored: { id: setId, generatedAt, codes: digests },
    issued: { setId, generatedAt, codes: codes.map((code) => code.display) },
  };
}
