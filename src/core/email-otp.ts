import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RandomSource } from './random.js';

/**
 * One-time codes sent by email. Email is not a NIST-recognised authenticator (63B-3 5.1.3.1; STANDARDS D4), so
 * these codes follow the out-of-band verifier rules as closely as email allows: random, short-lived, single use,
 * stored only as a keyed digest, and limited in guesses.
 */

/** 6 digits is ~19.93 bits, NIST's "approximately 20 bits" (63B-3 5.1.4.1; STANDARDS req 29). */
export const DEFAULT_EMAIL_OTP_DIGITS = 6;
/** 63B-3 5.1.3.2: "invalid if not completed within 10 minutes"; ASVS 4.0.3 2.7.2. */
export const DEFAULT_EMAIL_OTP_TTL_MS = 10 * 60 * 1000;
/** Wrong guesses per code before it dies (STANDARDS req 34; MFA CS "Apply strict attempt limits"). */
export const EMAIL_OTP_MAX_ATTEMPTS = 5;

/** The digest key is a server-held pepper: 256 bits, as derived by deriveServerKeys (STANDARDS req 5). */
const MIN_KEY_BYTES = 32;

function assertDigits(digits: number): void {
  if (!Number.isInteger(digits) || digits < 6 || digits > 8) {
    throw new RangeError(`An email code must have 6, 7 or 8 digits, not ${digits}.`);
  }
}

/**
 * A uniform code over 0..10^digits-1 from the CSPRNG (63B-3 5.1.3.2 "approved random bit generator"). One draw
 * of `random.int`, which is free of modulo bias, rather than digit by digit; leading zeros are kept so every
 * code has the same length.
 */
export function generateEmailOtp(random: RandomSource, digits: number = DEFAULT_EMAIL_OTP_DIGITS): string {
  assertDigits(digits);
  return random
    .int(10 ** digits)
    .toString()
    .padStart(digits, '0');
}

/**
 * HMAC-SHA-256 over `${challengeId}:${code}`, hex. Keyed, so a database copy alone cannot brute-force the small
 * code space (ASVS 4.0.3 2.7.5 "hashed at rest"); bound to the challenge, so a code issued for one pending login
 * cannot be replayed against another (ASVS 4.0.3 2.7.3; STANDARDS req 31). The code is digits only, so the
 * last colon splits the message unambiguously whatever the challenge id contains.
 */
export function digestEmailOtp(code: string, challengeId: string, key: Uint8Array): string {
  if (!/^[0-9]{6,8}$/.test(code))
    throw new RangeError('An email code to digest must be 6 to 8 ASCII digits.');
  if (key.length < MIN_KEY_BYTES)
    throw new RangeError(`The email code key must be at least ${MIN_KEY_BYTES} bytes.`);
  return createHmac('sha256', key).update(`${challengeId}:${code}`, 'utf8').digest('hex');
}

/**
 * Whether what the user typed is the code behind `digest`. People copy codes with spaces or dashes ("123 456",
 * "123-456"), so those are removed; anything else malformed is simply not a match. The comparison is constant
 * time (ASVS 5.0 11.2.4) so response timing does not leak how much of the digest matched.
 */
export function emailOtpMatches(
  input: string,
  challengeId: string,
  digest: string,
  key: Uint8Array,
): boolean {
  const code = input.replace(/[\s-]+/g, '');
  if (!/^[0-9]{6,8}$/.test(code)) return false;
  const expected = Buffer.from(digestEmailOtp(code, challengeId, key), 'hex');
  const stored = /^[0-9a-f]{64}$/i.test(digest) ? Buffer.from(digest, 'hex') : undefined;
  return stored !== undefined && timingSafeEqual(expected, stored);
}

/** Expired at the instant `now` reaches `expiresAt`. An invalid date compares false, so it counts as expired. */
export function isEmailOtpExpired(expiresAt: Date, now: Date): boolean {
  return !(now.getTime() < expiresAt.getTime());
}
