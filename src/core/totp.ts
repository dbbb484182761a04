import { timingSafeEqual } from 'node:crypto';
import { HOTP, Secret, TOTP } from 'otpauth';
import type { RandomSource } from './random.js';

/**
 * TOTP (RFC 6238 on RFC 4226 HOTP), computed by otpauth. Time and randomness are arguments: core never reads
 * the clock, and the verifier uses server time only (ASVS 5.0 6.5.8), so no caller-supplied time reaches here
 * except through `nowMs`, which the service takes from its own clock.
 */

export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

export interface TotpSettings {
  algorithm: TotpAlgorithm;
  digits: number;
  periodSeconds: number;
  /** Steps accepted either side of the current one to absorb clock drift and network delay. */
  window: { past: 0 | 1; future: 0 | 1 };
}

/** What authenticator apps support (STANDARDS req 21); RFC 6238 5.2 recommends 30 s and at most one step of delay. */
export const DEFAULT_TOTP_SETTINGS: TotpSettings = Object.freeze({
  algorithm: 'SHA1',
  digits: 6,
  periodSeconds: 30,
  window: Object.freeze({ past: 1, future: 1 }),
});

const HMAC_OUTPUT_BYTES: Readonly<Record<TotpAlgorithm, number>> = { SHA1: 20, SHA256: 32, SHA512: 64 };

/** RFC 4226 4 R6: "The length of the shared secret MUST be at least 128 bits." */
const MIN_SECRET_BYTES = 16;

/**
 * Human-readable problems, empty when fine. Settings may come from stored configuration, so every field is
 * checked at run time even though the type already narrows it.
 */
export function validateTotpSettings(settings: TotpSettings): string[] {
  const problems: string[] = [];
  if (!Object.hasOwn(HMAC_OUTPUT_BYTES, settings.algorithm)) {
    problems.push(`The TOTP algorithm must be SHA1, SHA256 or SHA512, not "${String(settings.algorithm)}".`);
  }
  // RFC 4226 5.3: "MUST extract a 6-digit code at a minimum and possibly 7 and 8-digit code."
  if (!Number.isInteger(settings.digits) || settings.digits < 6 || settings.digits > 8) {
    problems.push(`A TOTP code must have 6, 7 or 8 digits, not ${settings.digits}.`);
  }
  // NIST SP 800-63B 5.1.4.1: a clock-based nonce "SHALL be changed at least once every 2 minutes".
  if (
    !Number.isInteger(settings.periodSeconds) ||
    settings.periodSeconds < 1 ||
    settings.periodSeconds > 120
  ) {
    problems.push(
      `The TOTP period must be a whole number of seconds from 1 to 120, not ${settings.periodSeconds}.`,
    );
  }
  // RFC 6238 5.2: "at most one time step is allowed as the network delay" (STANDARDS req 22).
  const window = settings.window as { past?: unknown; future?: unknown } | undefined;
  if (!window || (window.past !== 0 && window.past !== 1) || (window.future !== 0 && window.future !== 1)) {
    problems.push('The TOTP window must allow 0 or 1 step in the past and 0 or 1 step in the future.');
  }
  return problems;
}

/** Invalid settings reaching generation or verification are a programmer error, not a user outcome. */
function assertValidSettings(settings: TotpSettings): void {
  const problems = validateTotpSettings(settings);
  if (problems.length > 0) throw new RangeError(problems.join(' '));
}

function assertUsableSecret(secret: Uint8Array): void {
  if (secret.length < MIN_SECRET_BYTES) {
    throw new RangeError(`A TOTP secret must be at least ${MIN_SECRET_BYTES} bytes (RFC 4226 4 R6).`);
  }
}

/** RFC 6238 5.1: "Keys SHOULD be of the length of the HMAC output"; all three sizes exceed 160 bits. */
export function totpSecretLength(algorithm: TotpAlgorithm): number {
  const length = HMAC_OUTPUT_BYTES[algorithm];
  if (length === undefined) throw new RangeError(`Unknown TOTP algorithm "${String(algorithm)}".`);
  return length;
}

/** A fresh secret per enrollment (RFC 6238 3: "a unique secret (key) for each prover"; STANDARDS req 20). */
export function generateTotpSecret(random: RandomSource, algorithm: TotpAlgorithm): Uint8Array {
  return random.bytes(totpSecretLength(algorithm));
}

/** otpauth keeps a view on the buffer it is given, so hand it a private copy of exactly these bytes. */
function toOtpSecret(bytes: Uint8Array): Secret {
  return new Secret({ buffer: Uint8Array.from(bytes).buffer });
}

/** RFC 4648 Base32 without padding: the form authenticator apps accept in a key URI or typed by hand. */
export function encodeBase32(bytes: Uint8Array): string {
  return toOtpSecret(bytes).base32;
}

/**
 * Lenient about what people paste (case, spaces, trailing `=`), strict about the rest: an unknown character or
 * a length no encoder produces (1, 3 or 6 symbols past a multiple of 8) gives undefined instead of silently
 * dropping bits.
 */
export function decodeBase32(text: string): Uint8Array | undefined {
  const compact = text.replace(/\s+/g, '').toUpperCase().replace(/=+$/, '');
  if (compact.length === 0 || !/^[A-Z2-7]+$/.test(compact)) return undefined;
  if ([1, 3, 6].includes(compact.length % 8)) return undefined;
  return Uint8Array.from(Secret.fromBase32(compact).bytes);
}

/**
 * The otpauth:// key URI shown as a QR code at enrollment. Google's Key URI Format forbids a colon in the issuer
 * because the label's first colon separates issuer from account; a colon in the account name still parses.
 */
export function totpKeyUri(input: {
  secret: Uint8Array;
  settings: TotpSettings;
  issuer: string;
  accountName: string;
}): string {
  assertValidSettings(input.settings);
  assertUsableSecret(input.secret);
  if (input.issuer.length === 0 || input.issuer.includes(':')) {
    throw new RangeError('The TOTP issuer must be non-empty and contain no colon (Key URI Format).');
  }
  if (input.accountName.length === 0) throw new RangeError('The TOTP account name must be non-empty.');
  return new TOTP({
    issuer: input.issuer,
    label: input.accountName,
    secret: toOtpSecret(input.secret),
    algorithm: input.settings.algorithm,
    digits: input.settings.digits,
    period: input.settings.periodSeconds,
  }).toString();
}

/**
 * T = floor((unixSeconds - T0) / X) with T0 = 0 (RFC 6238 4.2). Integer arithmetic on doubles is exact up to
 * 2^53, far past the 32-bit limit the RFC says implementations MUST exceed (t = 20000000000 in Appendix B).
 */
export function totpStepAt(nowMs: number, periodSeconds: number): number {
  if (!Number.isFinite(nowMs) || nowMs < 0)
    throw new RangeError(`nowMs must be a time after 1970, not ${nowMs}.`);
  if (!Number.isInteger(periodSeconds) || periodSeconds < 1) {
    throw new RangeError(`periodSeconds must be a positive integer, not ${periodSeconds}.`);
  }
  const periodMs = periodSeconds * 1000;
  const wholeMs = Math.floor(nowMs);
  return (wholeMs - (wholeMs % periodMs)) / periodMs;
}

/** HOTP at an explicit counter (RFC 4226 5.3); otpauth encodes the counter as 8 bytes, so steps > 2^32 work. */
function codeForStep(secret: Secret, settings: TotpSettings, step: number): string {
  return HOTP.generate({ secret, algorithm: settings.algorithm, digits: settings.digits, counter: step });
}

export function generateTotpCode(secret: Uint8Array, settings: TotpSettings, nowMs: number): string {
  assertValidSettings(settings);
  assertUsableSecret(secret);
  return codeForStep(toOtpSecret(secret), settings, totpStepAt(nowMs, settings.periodSeconds));
}

export type TotpCheck =
  | { ok: true; step: number }
  | { ok: false; reason: 'malformed' | 'invalid' | 'replayed' };

/**
 * Verifies a submitted code against the steps T-past..T+future around server time.
 *
 * otpauth's own `validate` stops at the first match and stores nothing, so the loop is ours: every candidate is
 * compared with timingSafeEqual (ASVS 5.0 11.2.4) and none is skipped, so the time taken does not reveal which
 * step matched. Replay (RFC 6238 5.2 "MUST NOT accept the second attempt"; STANDARDS req 23) refuses any step
 * <= lastUsedStep, including an older step still inside the window. On `ok`, the caller records `step` with a
 * conditional write (`WHERE last_step < :step`) so concurrent submissions of one code yield one winner.
 */
export function checkTotpCode(input: {
  secret: Uint8Array;
  code: string;
  settings: TotpSettings;
  nowMs: number;
  lastUsedStep: number | null;
}): TotpCheck {
  const { settings } = input;
  assertValidSettings(settings);
  assertUsableSecret(input.secret);
  const code = input.code.replace(/\s+/g, '');
  if (code.length !== settings.digits || !/^[0-9]+$/.test(code)) return { ok: false, reason: 'malformed' };

  const submitted = Buffer.from(code, 'ascii');
  const secret = toOtpSecret(input.secret);
  const current = totpStepAt(input.nowMs, settings.periodSeconds);
  const matches: number[] = [];
  for (let step = current - settings.window.past; step <= current + settings.window.future; step++) {
    if (step < 0) continue; // before the epoch: no such step exists
    const expected = Buffer.from(codeForStep(secret, settings, step), 'ascii');
    if (timingSafeEqual(submitted, expected)) matches.push(step);
  }
  if (matches.length === 0) return { ok: false, reason: 'invalid' };

  // Two steps sharing a code is a 1-in-10^digits coincidence. Take the earliest step not yet used: it is a
  // genuine match, and recording the smaller step refuses fewer of the user's next codes.
  const last = input.lastUsedStep;
  const fresh = matches.find((step) => last === null || step > last);
  return fresh === undefined ? { ok: false, reason: 'replayed' } : { ok: true, step: fresh };
}
