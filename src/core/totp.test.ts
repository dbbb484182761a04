import { createHmac, timingSafeEqual } from 'node:crypto';
import fc from 'fast-check';
import { TOTP, URI } from 'otpauth';
import { describe, expect, it, vi } from 'vitest';
import { RFC6238_APPENDIX_B, RFC6238_SEEDS_HEX } from '../../test/vectors/rfc6238-appendix-b.js';
import { systemRandom } from '../service/ports/system-random.js';
import type { RandomSource } from './random.js';
import {
  checkTotpCode,
  DEFAULT_TOTP_SETTINGS,
  decodeBase32,
  encodeBase32,
  generateTotpCode,
  generateTotpSecret,
  type TotpAlgorithm,
  type TotpSettings,
  totpKeyUri,
  totpSecretLength,
  totpStepAt,
  validateTotpSettings,
} from './totp.js';

// Wrap (not replace) timingSafeEqual so a test can count how many candidates were compared.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const SECRET = Uint8Array.from({ length: 20 }, (_, i) => (i * 37 + 11) % 256);
const PERIOD_MS = 30_000;
/** 15 s into step T = 56666667, so neither edge of the step is involved. */
const NOW_MS = 1_700_000_025_000;
const T = 56_666_667;

/** The code an authenticator shows `offset` steps away from NOW_MS. */
const codeAt = (offset: number, settings: TotpSettings = DEFAULT_TOTP_SETTINGS): string =>
  generateTotpCode(SECRET, settings, NOW_MS + offset * PERIOD_MS);

const check = (code: string, options: { settings?: TotpSettings; lastUsedStep?: number | null } = {}) =>
  checkTotpCode({
    secret: SECRET,
    code,
    settings: options.settings ?? DEFAULT_TOTP_SETTINGS,
    nowMs: NOW_MS,
    lastUsedStep: options.lastUsedStep ?? null,
  });

/** An independent RFC 4226 HOTP: 8-byte big-endian counter, dynamic truncation (5.3). */
function referenceHotp(secret: Uint8Array, algorithm: string, counter: bigint, digits: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(counter);
  const mac = createHmac(algorithm, secret).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return (binary % 10 ** digits).toString().padStart(digits, '0');
}

describe('validateTotpSettings (STANDARDS req 21)', () => {
  it('accepts the defaults and every supported algorithm with 6 to 8 digits', () => {
    expect(validateTotpSettings(DEFAULT_TOTP_SETTINGS)).toEqual([]);
    for (const algorithm of ['SHA1', 'SHA256', 'SHA512'] as const) {
      for (const digits of [6, 7, 8]) {
        expect(validateTotpSettings({ ...DEFAULT_TOTP_SETTINGS, algorithm, digits })).toEqual([]);
      }
    }
    expect(validateTotpSettings({ ...DEFAULT_TOTP_SETTINGS, periodSeconds: 120 })).toEqual([]);
  });

  it.each([5, 9, 6.5, Number.NaN])('refuses %s digits (RFC 4226 5.3: at least 6)', (digits) => {
    expect(validateTotpSettings({ ...DEFAULT_TOTP_SETTINGS, digits })).toEqual([
      expect.stringMatching(/digits/),
    ]);
  });

  it.each([121, 0, -30, 30.5])(
    'refuses a %s s period (63B-3 5.1.4.1: change at least every 2 minutes)',
    (p) => {
      expect(validateTotpSettings({ ...DEFAULT_TOTP_SETTINGS, periodSeconds: p })).toEqual([
        expect.stringMatching(/period/),
      ]);
    },
  );

  it('refuses an unknown algorithm and a window wider than one step (RFC 6238 5.2)', () => {
    const md5 = { ...DEFAULT_TOTP_SETTINGS, algorithm: 'MD5' } as unknown as TotpSettings;
    expect(validateTotpSettings(md5)).toEqual([expect.stringMatching(/algorithm/)]);
    const wide = { ...DEFAULT_TOTP_SETTINGS, window: { past: 2, future: 1 } } as unknown as TotpSettings;
    expect(validateTotpSettings(wide)).toEqual([expect.stringMatching(/window/)]);
  });

  it('throws on invalid settings instead of generating or checking codes with them', () => {
    const fiveDigits = { ...DEFAULT_TOTP_SETTINGS, digits: 5 };
    expect(() => generateTotpCode(SECRET, fiveDigits, NOW_MS)).toThrow(RangeError);
    expect(() => check('12345', { settings: fiveDigits })).toThrow(RangeError);
  });
});

describe('TOTP secrets (STANDARDS req 20; RFC 6238 5.1, RFC 4226 4 R6)', () => {
  it('sizes each secret to its HMAC output, always at least 160 bits', () => {
    const expected: Record<TotpAlgorithm, number> = { SHA1: 20, SHA256: 32, SHA512: 64 };
    for (const [algorithm, length] of Object.entries(expected) as [TotpAlgorithm, number][]) {
      expect(totpSecretLength(algorithm)).toBe(length);
      expect(generateTotpSecret(systemRandom, algorithm)).toHaveLength(length);
    }
  });

  it('draws the secret from the random source it is given', () => {
    const fixed = new Uint8Array(32).fill(9);
    const random: RandomSource = { bytes: vi.fn(() => fixed), int: () => 0, uuid: () => '' };
    expect(generateTotpSecret(random, 'SHA256')).toBe(fixed);
    expect(random.bytes).toHaveBeenCalledWith(32);
  });

  it('gives 1,000 enrollments 1,000 distinct secrets', () => {
    const secrets = new Set(
      Array.from({ length: 1000 }, () => encodeBase32(generateTotpSecret(systemRandom, 'SHA1'))),
    );
    expect(secrets.size).toBe(1000);
  });

  it('refuses a secret shorter than 128 bits', () => {
    expect(() => generateTotpCode(new Uint8Array(15), DEFAULT_TOTP_SETTINGS, NOW_MS)).toThrow(RangeError);
  });
});

describe('Base32 (RFC 4648, unpadded, as authenticator apps take it)', () => {
  it.each([
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ])('encodes the RFC 4648 section 10 vector %j without padding', (text, base32) => {
    expect(encodeBase32(Buffer.from(text))).toBe(base32);
    expect(Buffer.from(decodeBase32(base32)!).toString()).toBe(text);
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }), (bytes) => {
        expect(decodeBase32(encodeBase32(bytes))).toEqual(bytes);
      }),
    );
  });

  it('tolerates what people paste: lower case, spaces, padding', () => {
    expect(decodeBase32(' mzxw 6ytb oi== \n')).toEqual(new Uint8Array(Buffer.from('foobar')));
  });

  it.each(['', 'MZXW1', 'MZXW0YTB', 'MZX', 'M', 'MZXW6Y'])('refuses %j instead of dropping bits', (text) => {
    expect(decodeBase32(text)).toBeUndefined();
  });
});

describe('totpKeyUri (enrollment QR code)', () => {
  it.each([
    { algorithm: 'SHA1', digits: 6, periodSeconds: 30 },
    { algorithm: 'SHA256', digits: 7, periodSeconds: 60 },
    { algorithm: 'SHA512', digits: 8, periodSeconds: 30 },
  ] as const)('round-trips through otpauth URI.parse: %o', (fields) => {
    const settings: TotpSettings = { ...DEFAULT_TOTP_SETTINGS, ...fields };
    const secret = generateTotpSecret(systemRandom, settings.algorithm);
    const uri = totpKeyUri({
      secret,
      settings,
      issuer: 'Spare Key & Co',
      accountName: 'ada+2fa@example.org',
    });
    const parsed = URI.parse(uri);
    expect(parsed).toBeInstanceOf(TOTP);
    const totp = parsed as TOTP;
    expect(totp.issuer).toBe('Spare Key & Co');
    expect(totp.label).toBe('ada+2fa@example.org');
    expect(totp.algorithm).toBe(settings.algorithm);
    expect(totp.digits).toBe(settings.digits);
    expect(totp.period).toBe(settings.periodSeconds);
    expect(totp.secret.base32).toBe(encodeBase32(secret));
    // What the app then shows is what SpareKey accepts.
    expect(totp.generate({ timestamp: NOW_MS })).toBe(generateTotpCode(secret, settings, NOW_MS));
  });

  it('keeps an account name with a colon intact, and refuses an issuer with one (Key URI Format)', () => {
    const settings = DEFAULT_TOTP_SETTINGS;
    const uri = totpKeyUri({ secret: SECRET, settings, issuer: 'SpareKey', accountName: 'a:b@example.org' });
    expect((URI.parse(uri) as TOTP).label).toBe('a:b@example.org');
    expect(() => totpKeyUri({ secret: SECRET, settings, issuer: 'Spare:Key', accountName: 'a' })).toThrow(
      RangeError,
    );
    expect(() => totpKeyUri({ secret: SECRET, settings, issuer: '', accountName: 'a' })).toThrow(RangeError);
  });
});

describe('totpStepAt (RFC 6238 4.2)', () => {
  it('floors seconds since the epoch by the period', () => {
    expect(totpStepAt(0, 30)).toBe(0);
    expect(totpStepAt(29_999, 30)).toBe(0);
    expect(totpStepAt(30_000, 30)).toBe(1);
    expect(totpStepAt(59_000, 30)).toBe(1);
    expect(totpStepAt(NOW_MS, 30)).toBe(T);
  });

  it('supports time values beyond 32 bits and steps beyond 2^32 exactly', () => {
    expect(totpStepAt(20_000_000_000_000, 30)).toBe(0x27bc86aa);
    const step = 2 ** 32 + 5;
    expect(totpStepAt(step * 30_000 + 29_999, 30)).toBe(step);
  });

  it('codes for a step beyond 2^32 match an independent RFC 4226 computation', () => {
    const step = 2 ** 32 + 5;
    const settings: TotpSettings = { ...DEFAULT_TOTP_SETTINGS, algorithm: 'SHA256', digits: 8 };
    const secret = generateTotpSecret(systemRandom, 'SHA256');
    expect(generateTotpCode(secret, settings, step * 30_000)).toBe(
      referenceHotp(secret, 'sha256', BigInt(step), 8),
    );
  });

  it('refuses times before the epoch', () => {
    expect(() => totpStepAt(-1, 30)).toThrow(RangeError);
    expect(() => totpStepAt(Number.NaN, 30)).toThrow(RangeError);
  });
});

describe('8 digits with SHA-512 (STANDARDS req 21)', () => {
  it.each(RFC6238_APPENDIX_B.filter((v) => v.mode === 'SHA512'))(
    'gives $totp at t = $timeSeconds',
    (vector) => {
      const settings: TotpSettings = { ...DEFAULT_TOTP_SETTINGS, algorithm: 'SHA512', digits: 8 };
      const seed = Buffer.from(RFC6238_SEEDS_HEX.SHA512, 'hex');
      expect(generateTotpCode(seed, settings, vector.timeSeconds * 1000)).toBe(vector.totp);
    },
  );
});

describe('checkTotpCode: the window (STANDARDS req 22; RFC 6238 5.2, 6)', () => {
  it('has five distinct codes around T for this secret, so the window tests below mean something', () => {
    expect(new Set([-2, -1, 0, 1, 2].map((offset) => codeAt(offset))).size).toBe(5);
  });

  it.each([-1, 0, 1])('accepts the code for T + (%i) by default', (offset) => {
    expect(check(codeAt(offset))).toEqual({ ok: true, step: T + offset });
  });

  it.each([-2, 2])('refuses the code for T + (%i) by default', (offset) => {
    expect(check(codeAt(offset))).toEqual({ ok: false, reason: 'invalid' });
  });

  it('with window {past: 1, future: 0} accepts T-1 and T only (ASVS 5.0 6.5.5 strict reading, D3)', () => {
    const settings: TotpSettings = { ...DEFAULT_TOTP_SETTINGS, window: { past: 1, future: 0 } };
    expect(check(codeAt(-1), { settings })).toEqual({ ok: true, step: T - 1 });
    expect(check(codeAt(0), { settings })).toEqual({ ok: true, step: T });
    expect(check(codeAt(1), { settings })).toEqual({ ok: false, reason: 'invalid' });
  });

  it('with window {past: 0, future: 0} accepts the current step only', () => {
    const settings: TotpSettings = { ...DEFAULT_TOTP_SETTINGS, window: { past: 0, future: 0 } };
    expect(check(codeAt(0), { settings })).toEqual({ ok: true, step: T });
    expect(check(codeAt(-1), { settings })).toEqual({ ok: false, reason: 'invalid' });
    expect(check(codeAt(1), { settings })).toEqual({ ok: false, reason: 'invalid' });
  });

  it('accepts the code it generates, for any secret, time and algorithm', () => {
    const algorithms = fc.constantFrom<TotpAlgorithm>('SHA1', 'SHA256', 'SHA512');
    const times = fc.integer({ min: 0, max: 20_000_000_000_000 });
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 64 }),
        times,
        algorithms,
        (secret, nowMs, algorithm) => {
          const settings: TotpSettings = { ...DEFAULT_TOTP_SETTINGS, algorithm, digits: 8 };
          const code = generateTotpCode(secret, settings, nowMs);
          const result = checkTotpCode({ secret, code, settings, nowMs, lastUsedStep: null });
          expect(result).toEqual({ ok: true, step: totpStepAt(nowMs, 30) });
        },
      ),
    );
  });
});

describe('checkTotpCode: replay (STANDARDS req 23; RFC 6238 5.2 "MUST NOT accept the second attempt")', () => {
  it('accepts a code once, then refuses the same code as replayed', () => {
    const first = check(codeAt(0));
    expect(first).toEqual({ ok: true, step: T });
    expect(check(codeAt(0), { lastUsedStep: T })).toEqual({ ok: false, reason: 'replayed' });
  });

  it('after the T code is accepted, refuses the T-1 code although it is still inside the window', () => {
    expect(check(codeAt(-1), { lastUsedStep: T })).toEqual({ ok: false, reason: 'replayed' });
  });

  it('after the T code is accepted, still accepts the T+1 code', () => {
    expect(check(codeAt(1), { lastUsedStep: T })).toEqual({ ok: true, step: T + 1 });
  });

  it('refuses every step up to a last step recorded ahead of the window', () => {
    for (const offset of [-1, 0, 1]) {
      expect(check(codeAt(offset), { lastUsedStep: T + 1 })).toEqual({ ok: false, reason: 'replayed' });
    }
  });

  it('tells a wrong code from a replay', () => {
    expect(check(codeAt(2), { lastUsedStep: T })).toEqual({ ok: false, reason: 'invalid' });
  });
});

describe('checkTotpCode: input', () => {
  it('ignores spaces and line breaks people type or paste', () => {
    const code = codeAt(0);
    expect(check(`${code.slice(0, 3)} ${code.slice(3)}`)).toEqual({ ok: true, step: T });
    expect(check(` ${code}\n`)).toEqual({ ok: true, step: T });
  });

  it.each(['', '12345', '1234567', '12345a', '１２３４５６', '12-345', '+12345'])(
    'refuses %j as malformed, without checking it',
    (code) => {
      expect(check(code)).toEqual({ ok: false, reason: 'malformed' });
    },
  );

  it('requires exactly the configured number of digits', () => {
    const settings: TotpSettings = { ...DEFAULT_TOTP_SETTINGS, digits: 8 };
    expect(check(codeAt(0, settings), { settings })).toEqual({ ok: true, step: T });
    expect(check(codeAt(0, settings).slice(2), { settings })).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('checkTotpCode: constant-time comparison (ASVS 5.0 11.2.4)', () => {
  it('compares every candidate in the window, whether the first one matches or none does', () => {
    const compare = vi.mocked(timingSafeEqual);
    compare.mockClear();
    expect(check(codeAt(-1))).toEqual({ ok: true, step: T - 1 });
    expect(compare).toHaveBeenCalledTimes(3);
    compare.mockClear();
    expect(check(codeAt(2))).toEqual({ ok: false, reason: 'invalid' });
    expect(compare).toHaveBeenCalledTimes(3);
  });
});
