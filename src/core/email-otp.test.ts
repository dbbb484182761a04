import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_EMAIL_OTP_DIGITS,
  DEFAULT_EMAIL_OTP_TTL_MS,
  digestEmailOtp,
  EMAIL_OTP_MAX_ATTEMPTS,
  emailOtpMatches,
  generateEmailOtp,
  isEmailOtpExpired,
} from './email-otp.js';
import type { RandomSource } from './random.js';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const CHALLENGE = '550e8400-e29b-41d4-a716-446655440000';

/**
 * A deterministic stand-in for the CSPRNG (SHA-256 in counter mode, rejection sampling for `int`), so the
 * statistical test below gives the same verdict on every run instead of failing one run in a thousand.
 */
function seededRandom(seed: string): RandomSource {
  let counter = 0;
  let pool = Buffer.alloc(0);
  const bytes = (length: number): Uint8Array => {
    while (pool.length < length) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      pool = Buffer.concat([pool, block]);
    }
    const out = pool.subarray(0, length);
    pool = pool.subarray(length);
    return new Uint8Array(out);
  };
  const int = (maxExclusive: number): number => {
    const limit = 2 ** 32 - (2 ** 32 % maxExclusive);
    for (;;) {
      const value = Buffer.from(bytes(4)).readUInt32BE(0);
      if (value < limit) return value % maxExclusive;
    }
  };
  return { bytes, int, uuid: () => '00000000-0000-4000-8000-000000000000' };
}

/** Pearson's chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: readonly number[]): number {
  const total = counts.reduce((sum, n) => sum + n, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
}

describe('generateEmailOtp (STANDARDS req 29; 63B-3 5.1.3.2)', () => {
  it('defaults to 6 digits and supports 7 and 8', () => {
    const random = seededRandom('lengths');
    expect(DEFAULT_EMAIL_OTP_DIGITS).toBe(6);
    expect(generateEmailOtp(random)).toMatch(/^[0-9]{6}$/);
    expect(generateEmailOtp(random, 7)).toMatch(/^[0-9]{7}$/);
    expect(generateEmailOtp(random, 8)).toMatch(/^[0-9]{8}$/);
  });

  it.each([5, 9, 6.5])('refuses %s digits', (digits) => {
    expect(() => generateEmailOtp(seededRandom('x'), digits)).toThrow(RangeError);
  });

  it('draws one unbiased integer over the whole code space and keeps leading zeros', () => {
    const random: RandomSource = { bytes: () => new Uint8Array(), int: vi.fn(() => 42), uuid: () => '' };
    expect(generateEmailOtp(random)).toBe('000042');
    expect(random.int).toHaveBeenCalledWith(1_000_000);
    expect(generateEmailOtp(random, 8)).toBe('00000042');
    expect(random.int).toHaveBeenLastCalledWith(100_000_000);
  });

  it('is uniform over 100,000 codes by leading digit, last digit and first two digits (chi-square, p > 0.001)', () => {
    const random = seededRandom('uniformity');
    const leading = new Array<number>(10).fill(0);
    const last = new Array<number>(10).fill(0);
    const firstTwo = new Array<number>(100).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const code = generateEmailOtp(random);
      leading[Number(code[0])]! += 1;
      last[Number(code[5])]! += 1;
      firstTwo[Number(code.slice(0, 2))]! += 1;
    }
    // Critical values of the chi-square distribution at p = 0.001: 27.877 (9 df), 148.230 (99 df).
    expect(chiSquare(leading)).toBeLessThan(27.877);
    expect(chiSquare(last)).toBeLessThan(27.877);
    expect(chiSquare(firstTwo)).toBeLessThan(148.23);
    // Leading zeros are kept: about a tenth of the codes start with 0 and all have six characters.
    expect(leading[0]).toBeGreaterThan(9_000);
  });
});

describe('digestEmailOtp (ASVS 4.0.3 2.7.5 hashed at rest; STANDARDS req 31, 32)', () => {
  it('is HMAC-SHA-256 hex over "challengeId:code" (pinned, so stored digests stay verifiable)', () => {
    expect(digestEmailOtp('012345', 'challenge-1', KEY)).toBe(
      '8c6e192d5fe25cd94f7d0af4578bbfc1e74f057aaffb488b5393901fbc4ad098',
    );
    expect(digestEmailOtp('01234567', CHALLENGE, KEY)).toBe(
      'ae62f4823037b0c408f63ceb7f091c676661ef590a83c5f172e4e091da3faecf',
    );
  });

  it('differs per challenge id and per key, and does not contain the code', () => {
    const digest = digestEmailOtp('123456', CHALLENGE, KEY);
    expect(digestEmailOtp('123456', 'another-challenge', KEY)).not.toBe(digest);
    expect(digestEmailOtp('123456', CHALLENGE, new Uint8Array(32).fill(1))).not.toBe(digest);
    expect(digest).not.toContain('123456');
  });

  it('refuses a non-canonical code and a key shorter than 256 bits', () => {
    expect(() => digestEmailOtp('123 456', CHALLENGE, KEY)).toThrow(RangeError);
    expect(() => digestEmailOtp('123456', CHALLENGE, new Uint8Array(16))).toThrow(RangeError);
  });
});

describe('emailOtpMatches', () => {
  const digest = digestEmailOtp('012345', CHALLENGE, KEY);

  it.each(['012345', '012 345', ' 012345\n', '012-345', '01-23-45'])('accepts %j', (input) => {
    expect(emailOtpMatches(input, CHALLENGE, digest, KEY)).toBe(true);
  });

  it('refuses a wrong code, and the right code for another challenge (STANDARDS req 31)', () => {
    expect(emailOtpMatches('012346', CHALLENGE, digest, KEY)).toBe(false);
    expect(emailOtpMatches('012345', 'another-challenge', digest, KEY)).toBe(false);
  });

  it.each(['', '01234', '12345', '0123456789', 'abcdef', '０１２３４５', '012345a'])(
    'refuses malformed %j',
    (input) => {
      expect(emailOtpMatches(input, CHALLENGE, digest, KEY)).toBe(false);
    },
  );

  it('refuses against a damaged stored digest instead of throwing', () => {
    expect(emailOtpMatches('012345', CHALLENGE, digest.slice(2), KEY)).toBe(false);
    expect(emailOtpMatches('012345', CHALLENGE, `${digest.slice(0, 62)}zz`, KEY)).toBe(false);
    expect(emailOtpMatches('012345', CHALLENGE, '', KEY)).toBe(false);
  });
});

describe('isEmailOtpExpired (STANDARDS req 30; 63B-3 5.1.3.2 "within 10 minutes")', () => {
  const issuedAt = new Date('2026-01-01T12:00:00.000Z');
  const expiresAt = new Date(issuedAt.getTime() + DEFAULT_EMAIL_OTP_TTL_MS);
  const at = (ms: number) => new Date(issuedAt.getTime() + ms);

  it('lives 10 minutes by default', () => {
    expect(DEFAULT_EMAIL_OTP_TTL_MS).toBe(600_000);
  });

  it('is valid at +0:00 and +9:59.999 and expired at +10:00', () => {
    expect(isEmailOtpExpired(expiresAt, issuedAt)).toBe(false);
    expect(isEmailOtpExpired(expiresAt, at(9 * 60_000 + 59_000))).toBe(false);
    expect(isEmailOtpExpired(expiresAt, at(DEFAULT_EMAIL_OTP_TTL_MS - 1))).toBe(false);
    expect(isEmailOtpExpired(expiresAt, at(DEFAULT_EMAIL_OTP_TTL_MS))).toBe(true);
    expect(isEmailOtpExpired(expiresAt, at(DEFAULT_EMAIL_OTP_TTL_MS + 1))).toBe(true);
  });

  it('fails closed on an invalid date', () => {
    expect(isEmailOtpExpired(new Date(Number.NaN), issuedAt)).toBe(true);
    expect(isEmailOtpExpired(expiresAt, new Date(Number.NaN))).toBe(true);
  });
});

describe('EMAIL_OTP_MAX_ATTEMPTS (STANDARDS req 34)', () => {
  it('lets one code take 5 wrong guesses; after that a new code must be requested', () => {
    expect(EMAIL_OTP_MAX_ATTEMPTS).toBe(5);
  });
});
