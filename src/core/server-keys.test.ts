import { describe, expect, it } from 'vitest';
import { systemRandom } from '../service/ports/system-random.js';

import { openSecret, sealSecret } from './secret-box.js';
import { deriveServerKeys, MIN_SERVER_SECRET_BYTES, parseServerSecret } from './server-keys.js';

const SECRET = Uint8Array.from({ length: 32 }, (_, i) => i);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('deriveServerKeys (HKDF-SHA-256, RFC 5869)', () => {
  it('matches the pinned vector for secret 0x00..0x1f, so a refactor cannot orphan stored digests and seeds', () => {
    // Recomputed independently with Python's hmac/hashlib (RFC 5869 extract-then-expand, empty salt).
    const keys = deriveServerKeys(SECRET);
    expect(hex(keys.recoveryCodePepper)).toBe(
      'c68e0fdbbeceef08d93f3635595d8a1ab25cc7d4035d51749a1c278c77e3dee7',
    );
    expect(hex(keys.emailOtpKey)).toBe('4deba3663a95166acbdc85d8aa3c91fc720e6aafa7b394611b6e1b597c4275d9');
    expect(hex(keys.sealingKey.key)).toBe('df78ecb5783c519e042f7f932b62d4435551b1237f8eee630c371cb40c57eb7c');
    expect(keys.sealingKey.id).toBe('a44f4d0c');
  });

  it('gives each purpose its own 32-byte key', () => {
    const keys = deriveServerKeys(SECRET);
    const all = [keys.recoveryCodePepper, keys.emailOtpKey, keys.sealingKey.key];
    for (const key of all) expect(key).toHaveLength(32);
    expect(new Set(all.map(hex)).size).toBe(3);
    expect(all.map(hex)).not.toContain(hex(SECRET));
  });

  it('is deterministic for one secret and differs for another', () => {
    expect(deriveServerKeys(SECRET)).toEqual(deriveServerKeys(Uint8Array.from(SECRET)));
    const other = deriveServerKeys(Uint8Array.from(SECRET, (b) => b ^ 0xff));
    expect(hex(other.recoveryCodePepper)).not.toBe(hex(deriveServerKeys(SECRET).recoveryCodePepper));
    expect(other.sealingKey.id).not.toBe(deriveServerKeys(SECRET).sealingKey.id);
  });

  it('gives a sealing key id that is a non-secret 8-hex-digit fingerprint usable by secret-box', () => {
    const { sealingKey } = deriveServerKeys(SECRET);
    expect(sealingKey.id).toMatch(/^[0-9a-f]{8}$/);
    const sealed = sealSecret(sealingKey, SECRET, systemRandom, 'factor-1');
    expect(openSecret(new Map([[sealingKey.id, sealingKey.key]]), sealed, 'factor-1')).toEqual(SECRET);
  });

  it('refuses a secret shorter than 32 bytes (STANDARDS req 5: pepper >= 112 bits; we use 256)', () => {
    expect(MIN_SERVER_SECRET_BYTES).toBe(32);
    expect(() => deriveServerKeys(new Uint8Array(31))).toThrow(RangeError);
    expect(() => deriveServerKeys(new Uint8Array(0))).toThrow(RangeError);
    expect(() => deriveServerKeys(new Uint8Array(64))).not.toThrow();
  });
});

describe('parseServerSecret (SPAREKEY_SECRET)', () => {
  const bytes = Buffer.from(Uint8Array.from({ length: 32 }, (_, i) => 250 - i * 7));

  it.each([
    ['hex (openssl rand -hex 32)', bytes.toString('hex')],
    ['upper-case hex', bytes.toString('hex').toUpperCase()],
    ['base64 (openssl rand -base64 32)', bytes.toString('base64')],
    ['base64 without padding', bytes.toString('base64').replace(/=+$/, '')],
    ['base64url', bytes.toString('base64url')],
    ['text read from a file, with its newline', `${bytes.toString('base64')}\n`],
  ])('reads %s', (_label, text) => {
    expect(parseServerSecret(text)).toEqual(new Uint8Array(bytes));
  });

  it('reads a longer secret whole', () => {
    const long = Buffer.alloc(48, 0x5a);
    expect(parseServerSecret(long.toString('base64'))).toEqual(new Uint8Array(long));
  });

  it.each([
    ['empty', ''],
    ['31 bytes of hex', Buffer.alloc(31, 1).toString('hex')],
    ['31 bytes of base64', Buffer.alloc(31, 1).toString('base64')],
    ['a passphrase', 'correct horse battery staple, but longer than 32'],
    ['63 hex digits (a truncated hex secret, though valid base64)', bytes.toString('hex').slice(0, 63)],
    ['other characters', `${bytes.toString('hex')}!`],
    ['mixed base64 and base64url alphabets', `${bytes.toString('base64').slice(0, 40)}+_AA`],
    [
      'base64 with characters inside',
      `${bytes.toString('base64').slice(0, 20)} ${bytes.toString('base64').slice(20)}`,
    ],
    ['non-canonical base64 (stray trailing bits)', `${bytes.toString('base64').slice(0, 42)}B=`],
  ])('refuses %s', (_label, text) => {
    expect(parseServerSecret(text)).toBeUndefined();
  });
});
