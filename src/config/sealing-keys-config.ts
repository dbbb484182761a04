import { join } from 'node:path';
import { parseSealingKeys } from '../core/sealing-key-ring.js';
import type { SealingKey } from '../core/secret-box.js';
import { readSealingKeysFile } from './sealing-keys-file.js';

/**
 * Where the TOTP sealing keys come from (docs/decisions/0002-sealing-key-rotation.md):
 * - `environment`: SPAREKEY_SEALING_KEYS, newest first, the same on every instance (PostgreSQL deployments);
 * - `file`: the data directory's `sealing-keys` file (0600), which `sparekey secret rotate` writes and every
 *   process re-reads when it changes. A missing file means no rotation yet: the key from SPAREKEY_SECRET.
 */
export type SealingKeysConfig =
  | { source: 'environment'; keys: readonly SealingKey[] }
  | { source: 'file'; path: string };

export const SEALING_KEYS_FILE = 'sealing-keys';

export function parseSealingKeysConfig(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  problems: string[],
): SealingKeysConfig {
  const text = env.SPAREKEY_SEALING_KEYS?.trim();
  if (!text) {
    const path = join(dataDir, SEALING_KEYS_FILE);
    // Read here once so a damaged file stops the start with this message, not with a stack trace later.
    try {
      readSealingKeysFile(path);
    } catch (error) {
      problems.push(
        `${(error as Error).message} Restore it from a backup: without its keys the authenticator-app ` +
          `secrets sealed under them cannot be opened.`,
      );
    }
    return { source: 'file', path };
  }
  const parsed = parseSealingKeys(text);
  if ('problem' in parsed) {
    problems.push(
      `SPAREKEY_SEALING_KEYS must list keys newest first, separated by commas, each 32 random bytes in base64 ` +
        `(openssl rand -base64 32): ${parsed.problem}.`,
    );
    return { source: 'environment', keys: [] };
  }
  return { source: 'environment', keys: parsed.keys };
}
