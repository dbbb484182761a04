import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkTotpCode,
  DEFAULT_TOTP_SETTINGS,
  decodeBase32,
  encodeBase32,
  generateTotpCode,
  type TotpSettings,
  totpStepAt,
} from '../../src/core/totp.js';
import {
  RFC4226_APPENDIX_D,
  RFC4226_DIGITS,
  RFC4226_SECRET_ASCII,
  RFC4226_SECRET_BASE32,
  RFC4226_SECRET_HEX,
} from './rfc4226-appendix-d.js';
import {
  RFC6238_APPENDIX_B,
  RFC6238_DIGITS,
  RFC6238_PERIOD_SECONDS,
  RFC6238_SEEDS_BASE32,
  RFC6238_SEEDS_HEX,
  type Rfc6238Mode,
} from './rfc6238-appendix-b.js';

/**
 * STANDARDS req 19: every RFC 4226 Appendix D and RFC 6238 Appendix B vector, through SpareKey's own API
 * (generateTotpCode / checkTotpCode), in 8 digits as published and in the 6-digit form apps show.
 */

const hotpSecret = Buffer.from(RFC4226_SECRET_HEX, 'hex');

/**
 * NOT from the RFC: STANDARDS.md section 5 "Negative vectors". The values SHA-256 and SHA-512 give when run
 * with the 20-byte SHA-1 seed, as Appendix B's prose (erratum 2866) suggests. Producing one of these means the
 * implementation uses the wrong key length.
 */
const WRONG_20_BYTE_SEED: readonly { timeSeconds: number; SHA256: string; SHA512: string }[] = [
  { timeSeconds: 59, SHA256: '32247374', SHA512: '69342147' },
  { timeSeconds: 1111111109, SHA256: '34756375', SHA512: '63049338' },
  { timeSeconds: 1111111111, SHA256: '74584430', SHA512: '54380122' },
  { timeSeconds: 1234567890, SHA256: '42829826', SHA512: '76671578' },
  { timeSeconds: 2000000000, SHA256: '78428693', SHA512: '56464532' },
  { timeSeconds: 20000000000, SHA256: '24142410', SHA512: '69481994' },
];

function settingsFor(mode: Rfc6238Mode, digits: number): TotpSettings {
  return { ...DEFAULT_TOTP_SETTINGS, algorithm: mode, digits, periodSeconds: RFC6238_PERIOD_SECONDS };
}

describe('RFC 4226 Appendix D: HOTP test values (STANDARDS req 19)', () => {
  it('states one secret consistently in hex, ASCII and Base32', () => {
    expect(hotpSecret.toString('latin1')).toBe(RFC4226_SECRET_ASCII);
    expect(encodeBase32(hotpSecret)).toBe(RFC4226_SECRET_BASE32);
    expect(decodeBase32(RFC4226_SECRET_BASE32)).toEqual(new Uint8Array(hotpSecret));
  });

  // Tables 1 and 2 pin the intermediate values, so a mistyped row in the vector file cannot pass unnoticed.
  it.each(RFC4226_APPENDIX_D)('count $count: HMAC $hmacHex truncates to $truncatedDecimal', (vector) => {
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64BE(BigInt(vector.count));
    const mac = createHmac('sha1', hotpSecret).update(counter).digest();
    expect(mac.toString('hex')).toBe(vector.hmacHex);
    const truncated = mac.readUInt32BE(mac[19]! & 0x0f) & 0x7fffffff;
    expect(truncated.toString(16)).toBe(vector.truncatedHex);
    expect(truncated).toBe(vector.truncatedDecimal);
    expect(String(truncated % 10 ** RFC4226_DIGITS).padStart(RFC4226_DIGITS, '0')).toBe(vector.hotp);
  });

  // A TOTP step is an HOTP counter (RFC 6238 4.2), so time count * X selects counter `count`.
  it.each(RFC4226_APPENDIX_D)('count $count: SpareKey generates and accepts HOTP $hotp', (vector) => {
    const settings = settingsFor('SHA1', RFC4226_DIGITS);
    const nowMs = vector.count * RFC6238_PERIOD_SECONDS * 1000;
    expect(generateTotpCode(hotpSecret, settings, nowMs)).toBe(vector.hotp);
    const check = checkTotpCode({
      secret: hotpSecret,
      code: vector.hotp,
      settings,
      nowMs,
      lastUsedStep: null,
    });
    expect(check).toEqual({ ok: true, step: vector.count });
  });
});

describe('RFC 6238 Appendix B: TOTP test vectors (STANDARDS req 19; RFC 6238 4.2 T beyond 32 bits)', () => {
  it.each(Object.keys(RFC6238_SEEDS_HEX) as Rfc6238Mode[])(
    'the %s seed has its HMAC output length',
    (mode) => {
      const seed = Buffer.from(RFC6238_SEEDS_HEX[mode], 'hex');
      expect(seed.length).toBe({ SHA1: 20, SHA256: 32, SHA512: 64 }[mode]);
      expect(encodeBase32(seed)).toBe(RFC6238_SEEDS_BASE32[mode]);
    },
  );

  it.each(RFC6238_APPENDIX_B)('t = $timeSeconds ($utcTime) is step $stepHex', (vector) => {
    expect(totpStepAt(vector.timeSeconds * 1000, RFC6238_PERIOD_SECONDS)).toBe(
      Number.parseInt(vector.stepHex, 16),
    );
    expect(new Date(vector.timeSeconds * 1000).toISOString().replace('T', ' ').slice(0, 19)).toBe(
      vector.utcTime,
    );
  });

  it.each(RFC6238_APPENDIX_B)(
    '$mode at t = $timeSeconds: 8 digits $totp, generated and accepted',
    (vector) => {
      const seed = Buffer.from(RFC6238_SEEDS_HEX[vector.mode], 'hex');
      const settings = settingsFor(vector.mode, RFC6238_DIGITS);
      const nowMs = vector.timeSeconds * 1000;
      expect(generateTotpCode(seed, settings, nowMs)).toBe(vector.totp);
      const check = checkTotpCode({ secret: seed, code: vector.totp, settings, nowMs, lastUsedStep: null });
      expect(check).toEqual({ ok: true, step: Number.parseInt(vector.stepHex, 16) });
    },
  );

  // The 6-digit value is the same 31-bit truncation mod 10^6, so it is the last 6 digits of the 8-digit one.
  it.each(RFC6238_APPENDIX_B)(
    '$mode at t = $timeSeconds: the 6-digit form, generated and accepted',
    (vector) => {
      const seed = Buffer.from(RFC6238_SEEDS_HEX[vector.mode], 'hex');
      const settings = settingsFor(vector.mode, 6);
      const nowMs = vector.timeSeconds * 1000;
      const sixDigits = vector.totp.slice(-6);
      expect(generateTotpCode(seed, settings, nowMs)).toBe(sixDigits);
      const check = checkTotpCode({ secret: seed, code: sixDigits, settings, nowMs, lastUsedStep: null });
      expect(check.ok).toBe(true);
    },
  );
});

describe('Negative vectors: the RFC 6238 erratum 2866 trap (STANDARDS section 5)', () => {
  it.each(WRONG_20_BYTE_SEED)('t = $timeSeconds: never produces the wrong-seed values', (vector) => {
    for (const mode of ['SHA256', 'SHA512'] as const) {
      const seed = Buffer.from(RFC6238_SEEDS_HEX[mode], 'hex');
      const settings = settingsFor(mode, RFC6238_DIGITS);
      const nowMs = vector.timeSeconds * 1000;
      expect(generateTotpCode(seed, settings, nowMs)).not.toBe(vector[mode]);
      const check = checkTotpCode({ secret: seed, code: vector[mode], settings, nowMs, lastUsedStep: null });
      expect(check).toEqual({ ok: false, reason: 'invalid' });
    }
  });

  // Shows the negative vectors are real: they are exactly what the 20-byte seed gives, so refusing them above
  // proves the per-mode seed is used, not that the values are arbitrary.
  it.each(WRONG_20_BYTE_SEED)('t = $timeSeconds: the 20-byte seed does give them', (vector) => {
    const wrongSeed = Buffer.from(RFC6238_SEEDS_HEX.SHA1, 'hex');
    for (const mode of ['SHA256', 'SHA512'] as const) {
      expect(generateTotpCode(wrongSeed, settingsFor(mode, 8), vector.timeSeconds * 1000)).toBe(vector[mode]);
    }
  });
});
