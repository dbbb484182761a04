import { hkdfSync } from 'node:crypto';
import { type SealingKey, sealingKeyId } from './secret-box.js';

/**
 * One operator secret (SPAREKEY_SECRET, read by config/ and passed in) yields a separate key per purpose, so a
 * key leaked or misused in one role says nothing about another, and the operator manages a single value.
 */

/** 256 bits: above the 112-bit floor for a pepper (63B-3 5.1.1.2; STANDARDS req 5) and AES-256's key size. */
export const MIN_SERVER_SECRET_BYTES = 32;

export interface ServerKeys {
  /** Keys recovery-code digests; kept outside the database (STANDARDS req 5). */
  recoveryCodePepper: Uint8Array;
  /** Keys email-code digests (ASVS 4.0.3 2.7.5). */
  emailOtpKey: Uint8Array;
  /** Keys account-password hashes (argon2id's secret input), like the recovery-code pepper. */
  passwordPepper: Uint8Array;
  /** Keys the HMAC that binds CSRF tokens to a session. */
  csrfKey: Uint8Array;
  /** Keys the HMAC that signs a remembered browser's cookie and binds it to its user. */
  deviceCookieKey: Uint8Array;
  /** Derives each webhook endpoint's signing secret from its id (never stored). */
  webhookKey: Uint8Array;
  /** Signs the OpenID Connect provider's cookies (its session and interaction cookies). */
  oidcCookieKey: Uint8Array;
  /** Seals TOTP seeds at rest (STANDARDS req 25). */
  sealingKey: SealingKey;
}

const DERIVED_KEY_BYTES = 32;

/**
 * The HKDF `info` labels (RFC 5869 3.2: "info" binds the derived key to its context). Changing a label changes
 * every key derived from it and so makes every stored digest and sealed seed unverifiable: add a new label
 * (v2) instead, and pinned vectors in the tests catch an accidental edit.
 */
const LABELS = {
  recoveryCodePepper: 'sparekey recovery-code pepper v1',
  emailOtpKey: 'sparekey email-otp key v1',
  passwordPepper: 'sparekey password pepper v1',
  csrfKey: 'sparekey csrf key v1',
  deviceCookieKey: 'sparekey device cookie key v1',
  webhookKey: 'sparekey webhook key v1',
  oidcCookieKey: 'sparekey oidc cookie key v1',
  sealingKey: 'sparekey totp-seed sealing key v1',
} as const;

/**
 * No salt: RFC 5869 3.1 allows it when the input keying material is already uniformly random, which the
 * 32-byte minimum from a CSPRNG gives; a fixed public salt would add nothing.
 */
function derive(serverSecret: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', serverSecret, new Uint8Array(0), info, DERIVED_KEY_BYTES));
}

/** HKDF-SHA-256 purpose keys; throws RangeError for a secret shorter than MIN_SERVER_SECRET_BYTES. */
export function deriveServerKeys(serverSecret: Uint8Array): ServerKeys {
  if (serverSecret.length < MIN_SERVER_SECRET_BYTES) {
    throw new RangeError(`The server secret must be at least ${MIN_SERVER_SECRET_BYTES} bytes.`);
  }
  const sealing = derive(serverSecret, LABELS.sealingKey);
  return {
    recoveryCodePepper: derive(serverSecret, LABELS.recoveryCodePepper),
    emailOtpKey: derive(serverSecret, LABELS.emailOtpKey),
    passwordPepper: derive(serverSecret, LABELS.passwordPepper),
    csrfKey: derive(serverSecret, LABELS.csrfKey),
    deviceCookieKey: derive(serverSecret, LABELS.deviceCookieKey),
    webhookKey: derive(serverSecret, LABELS.webhookKey),
    oidcCookieKey: derive(serverSecret, LABELS.oidcCookieKey),
    // The id lets sealed values name the key that opens them across rotations (core/sealing-key-ring).
    sealingKey: { id: sealingKeyId(sealing), key: sealing },
  };
}

const HEX_DIGITS = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * Decodes base64 only when the text is a canonical encoding (Node's decoder silently skips what it does not
 * understand), comparing without padding so both padded and unpadded input are accepted.
 */
function decodeBase64Strict(text: string, encoding: 'base64' | 'base64url'): Buffer | undefined {
  const bare = text.replace(/=+$/, '');
  const bytes = Buffer.from(bare, encoding);
  const again = bytes.toString(encoding).replace(/=+$/, '');
  return again === bare ? bytes : undefined;
}

/**
 * Parses SPAREKEY_SECRET as hex (`openssl rand -hex 32`), base64 (`openssl rand -base64 32`) or base64url.
 * Text made only of hex digits is read as hex and nothing else: it is also valid base64 but means something
 * else, and a random base64 secret of 32+ bytes is never all hex digits in practice, so an odd number of hex
 * digits is a truncated paste, refused rather than quietly decoded as base64. Undefined when invalid or
 * shorter than 32 bytes.
 */
export function parseServerSecret(text: string): Uint8Array | undefined {
  const trimmed = text.trim();
  let bytes: Buffer | undefined;
  if (HEX_DIGITS.test(trimmed)) bytes = trimmed.length % 2 === 0 ? Buffer.from(trimmed, 'hex') : undefined;
  else if (BASE64.test(trimmed)) bytes = decodeBase64Strict(trimmed, 'base64');
  else if (BASE64URL.test(trimmed)) bytes = decodeBase64Strict(trimmed, 'base64url');
  if (!bytes || bytes.length < MIN_SERVER_SECRET_BYTES) return undefined;
  return new Uint8Array(bytes);
}
