import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import {
  buildSealingKeyRing,
  formatSealingKeys,
  parseSealingKeys,
  type SealingKeySource,
} from '../core/sealing-key-ring.js';
import type { SealingKey } from '../core/secret-box.js';
import type { SealingKeysConfig } from './sealing-keys-config.js';

/** Reads the keys a file lists; an empty list when there is no file yet. Throws when it is damaged. */
export function readSealingKeysFile(path: string): SealingKey[] {
  if (!existsSync(path)) return [];
  const parsed = parseSealingKeys(readFileSync(path, 'utf8'));
  if ('problem' in parsed) throw new Error(`The sealing-key file ${path} is damaged (${parsed.problem}).`);
  return parsed.keys;
}

/**
 * Writes the list atomically (a temporary file renamed over the old one), readable by the owner only, so a
 * crash leaves either the old list or the new one and never a half-written key.
 */
export function writeSealingKeysFile(path: string, keys: readonly SealingKey[]): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, formatSealingKeys(keys), { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/**
 * The ring a process seals and opens with. From a file it is re-read whenever the file changes, so a
 * `sparekey secret rotate` run beside a live server takes effect there at its next TOTP operation.
 */
export function sealingKeySource(config: SealingKeysConfig, base: SealingKey): SealingKeySource {
  if (config.source === 'environment') {
    const ring = buildSealingKeyRing(config.keys, base);
    return { ring: () => ring };
  }
  let seen = '';
  let ring = buildSealingKeyRing(readSealingKeysFile(config.path), base);
  return {
    ring: () => {
      const stat = statSync(config.path, { throwIfNoEntry: false });
      const version = stat ? `${stat.mtimeMs}:${stat.size}:${stat.ino}` : '';
      if (version !== seen) {
        // A damaged file keeps the last good ring: refusing every TOTP sign-in would be worse.
        try {
          ring = buildSealingKeyRing(readSealingKeysFile(config.path), base);
          seen = version;
        } catch {}
      }
      return ring;
    },
  };
}
