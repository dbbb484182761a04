import { type SealingKey, sealingKeyId } from './secret-box.js';
import { parseServerSecret } from './server-keys.js';

/**
 * The keys that seal TOTP seeds: the newest seals, every one opens. Rotation adds a key at the front and
 * re-seals stored values under it; old keys stay until nothing they sealed is left (docs/decisions/0002).
 * The key derived from SPAREKEY_SECRET is always the last, so data sealed before any rotation still opens.
 */
export interface SealingKeyRing {
  /** Seals every new value. */
  current: SealingKey;
  /** Every key that may open a stored value, by id. */
  opening: ReadonlyMap<string, Uint8Array>;
  /** Ids newest first (the current key first). */
  order: readonly string[];
}

/** The current ring; a file-backed source (config/sealing-keys-file) re-reads it when the file changes. */
export interface SealingKeySource {
  ring(): SealingKeyRing;
}

const AES_256_KEY_BYTES = 32;

export function sealingKeyFromBytes(key: Uint8Array): SealingKey {
  if (key.length !== AES_256_KEY_BYTES) throw new RangeError('A sealing key must be 32 bytes.');
  return { id: sealingKeyId(key), key };
}

/** Newest first; the base key (from SPAREKEY_SECRET) is appended unless already listed. */
export function buildSealingKeyRing(newestFirst: readonly SealingKey[], base: SealingKey): SealingKeyRing {
  const keys = [...newestFirst, base];
  const opening = new Map<string, Uint8Array>();
  for (const key of keys) if (!opening.has(key.id)) opening.set(key.id, key.key);
  return { current: keys[0] ?? base, opening, order: [...opening.keys()] };
}

/**
 * Parses a list of sealing keys, newest first: separated by commas or new lines (a file holds one per
 * line, `#` starts a comment), each 32 random bytes in base64 or hex. Undefined and a reason when invalid.
 */
export function parseSealingKeys(text: string): { keys: SealingKey[] } | { problem: string } {
  const entries = text
    .split('\n')
    .flatMap((line) => line.replace(/#.*$/, '').split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const keys: SealingKey[] = [];
  for (const [index, entry] of entries.entries()) {
    const bytes = parseServerSecret(entry);
    if (!bytes || bytes.length !== AES_256_KEY_BYTES) {
      return { problem: `sealing key ${index + 1} is not 32 random bytes in base64 or hex` };
    }
    keys.push(sealingKeyFromBytes(bytes));
  }
  return { keys };
}

/** One key per line, newest first: the form `parseSealingKeys` reads back. */
export function formatSealingKeys(keys: readonly SealingKey[]): string {
  const lines = keys.map((key) => `${Buffer.from(key.key).toString('base64')}  # ${key.id}`);
  return `# SpareKey sealing keys, newest first. Keep this file secret and backed up with the database.\n${lines.join('\n')}\n`;
}
