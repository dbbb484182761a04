import type { RecoveryCodeSettings } from '../core/policy.js';
import { generateRecoveryCodes } from '../core/recovery-code.js';
import { hashRecoveryCodes } from '../core/recovery-code-digest.js';
import type { NewRecoveryCodeSet } from '../store/store.js';
import type { ServiceDeps } from './deps.js';

/** A set as the user sees it, exactly once: the display form of each code. */
export interface IssuedRecoveryCodeSet {
  setId: string;
  generatedAt: Date;
  codes: string[];
}

/**
 * Generates and hashes a new set, ready to store. The KDF work (one argon2id per code) happens here,
 * before any transaction opens, so no database lock is held while hashing.
 */
export async function prepareRecoveryCodeSet(
  deps: ServiceDeps,
  settings: RecoveryCodeSettings,
): Promise<{ stored: NewRecoveryCodeSet; issued: IssuedRecoveryCodeSet }> {
  const codes = generateRecoveryCodes(deps.random, { count: settings.codesPerSet, format: settings.format });
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
