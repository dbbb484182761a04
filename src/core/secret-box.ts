import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import type { RandomSource } from './random.js';

/**
 * Authenticated encryption for TOTP seeds at rest. Seeds cannot be hashed because the verifier needs them, so
 * they are sealed with AES-256-GCM under a key held outside the database (RFC 6238 5.1 "secure area"; 63B-3
 * 5.1.4.2 "strongly protected"; ASVS 4.0.3 2.8.2; STANDARDS req 25).
 *
 * Stored form: `v1.<keyId>.<nonce base64url>.<ciphertext||tag base64url>`. The key id names the key that sealed
 * the value, so keys can be rotated: old values still open with the old key until they are re-sealed.
 */

export interface SealingKey {
  /** A non-secret name for the key, stored with each sealed value; letters, digits, `_` and `-` only. */
  id: string;
  /** 32 bytes: AES-256. */
  key: Uint8Array;
}

/** A non-secret name for a 256-bit random key: 32 bits of its SHA-256 reveal nothing usable about it. */
export function sealingKeyId(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

const VERSION = 'v1';
const KEY_BYTES = 32;
/** 96-bit random nonces: GCM's native size (NIST SP 800-38D 8.2.2). */
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * The authenticated header: version and key id as well as the caller's associated data (e.g. the factor id),
 * so a sealed seed copied onto another row, or relabelled with another key id, fails to open. The key id
 * cannot contain a dot, so the joined string is unambiguous.
 */
function additionalData(keyId: string, associatedData: string): Buffer {
  return Buffer.from(`${VERSION}.${keyId}.${associatedData}`, 'utf8');
}

export function sealSecret(
  key: SealingKey,
  plaintext: Uint8Array,
  random: RandomSource,
  associatedData: string,
): string {
  if (!KEY_ID.test(key.id))
    throw new RangeError('A sealing key id must be 1-64 letters, digits, "_" or "-".');
  if (key.key.length !== KEY_BYTES) throw new RangeError(`A sealing key must be ${KEY_BYTES} bytes.`);
  const nonce = random.bytes(NONCE_BYTES);
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`The random source returned a short nonce.`);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(key.id, associatedData));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return [VERSION, key.id, Buffer.from(nonce).toString('base64url'), body.toString('base64url')].join('.');
}

/** Strict base64url: Node's decoder skips characters it does not know, which would hide tampering. */
function decodeBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/** The key id a sealed value names, so a rotation job can find values still sealed under an old key. */
export function sealedKeyId(sealed: string): string | undefined {
  const parts = sealed.split('.');
  return parts.length === 4 && parts[0] === VERSION && KEY_ID.test(parts[1] ?? '') ? parts[1] : undefined;
}

/**
 * The plaintext, or undefined when the key id is unknown, the text is malformed, or authentication fails.
 * All failures look the same to the caller, which must fail closed (refuse the attempt, log, no 5xx).
 */
export function openSecret(
  keys: ReadonlyMap<string, Uint8Array>,
  sealed: string,
  associatedData: string,
): Uint8Array | undefined {
  const keyId = sealedKeyId(sealed);
  if (keyId === undefined) return undefined;
  const key = keys.get(keyId);
  const [, , nonceText = '', bodyText = ''] = sealed.split('.');
  const nonce = decodeBase64url(nonceText);
  const body = decodeBase64url(bodyText);
  if (!key || key.length !== KEY_BYTES || nonce?.length !== NONCE_BYTES || !body || body.length < TAG_BYTES) {
    return undefined;
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(keyId, associatedData));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    const plaintext = Buffer.concat([
      decipher.update(body.subarray(0, body.length - TAG_BYTES)),
      decipher.final(),
    ]);
    return new Uint8Array(plaintext);
  } catch {
    // GCM tag mismatch: tampered ciphertext, wrong associated data or the wrong key.
    return undefined;
  }
}
