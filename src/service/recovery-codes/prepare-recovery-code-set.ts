import type { RecoveryCodeSettings } from '../../core/policy.js';
import { generateRecoveryCodes } from '../../core/recovery-code.js';
import { hashRecoveryCodes } from '../../core/recovery-code-digest.js';
import type { NewRecoveryCodeSet } from '../../store/store.js';
import type { ServiceDeps } from '../deps.js';

/** A set as the user sees it, exactly once: the display form of each code. */
export interface IssuedRecoveryCodeSet {
  setId: string;
  generatedAt: Date;
  /** In the order of the printed sheet (slot order). */
  codes: string[];
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * The set's name on the printed sheet, in the download and in Settings: "Set of 2 December 2026, 17:30:41
 * UTC". It must never pass for a code: a month name, a comma and colons are nothing a code contains, so
 * neither a person nor a parser can take it for an extra code (a label of code symbols and dashes did).
 * To the second, it tells a person's successive sets apart, so they can see whether a saved sheet is the
 * current one.
 */
export function recoveryCodeSetLabel(generatedAt: Date): string {
  const day = `${generatedAt.getUTCDate()} ${MONTHS[generatedAt.getUTCMonth()]} ${generatedAt.getUTCFullYear()}`;
  return `Set of ${day}, ${generatedAt.toISOString().slice(11, 19)} UTC`;
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
