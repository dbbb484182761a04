import { describe, expect, test } from 'vitest';
import { decodeBase32, hotpCode, type TotpAlgorithm, totpCode } from './rfc6238.js';

/** The browser tests' authenticator must itself be right: RFC 4648 §10, RFC 4226 App. D, RFC 6238 App. B. */
describe('the independent TOTP implementation used by the browser tests', () => {
  test('RFC 4648 section 10: base32 test vectors, also typed in lower case, spaced, unpadded', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'MY======'],
      ['fo', 'MZXQ===='],
      ['foo', 'MZXW6==='],
      ['foob', 'MZXW6YQ='],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI======'],
    ];
    for (const [plain, encoded] of vectors) {
      expect(decodeBase32(encoded).toString()).toBe(plain);
      const typed = encoded
        .toLowerCase()
        .replace(/=/g, '')
        .replace(/(.{4})/g, '$1 ');
      expect(decodeBase32(typed).toString()).toBe(plain);
    }
    expect(() => decodeBase32('MZXW1')).toThrow(/not base32/);
  });

  test('RFC 4226 Appendix D: HOTP values for counters 0-9', () => {
    const key = Buffer.from('12345678901234567890');
    const expected = [
      '755224',
      '287082',
      '359152',
      '969429',
      '338314',
      '254676',
      '287922',
      '162583',
      '399871',
      '520489',
    ];
    expect(expected.map((_, counter) => hotpCode(key, counter, 6))).toEqual(expected);
  });

  const seeds: Record<TotpAlgorithm, Buffer> = {
    SHA1: Buffer.from('12345678901234567890'),
    SHA256: Buffer.from('12345678901234567890123456789012'),
    SHA512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
  };
  // A throwaway encoder (bit string in 5-bit chunks, no padding) so the test does not trust the decoder's twin.
  const base32 = (bytes: Buffer) => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    let bits = '';
    for (const byte of bytes) bits += byte.toString(2).padStart(8, '0');
    return (bits.match(/.{1,5}/g) ?? [])
      .map((chunk) => alphabet[Number.parseInt(chunk.padEnd(5, '0'), 2)])
      .join('');
  };
  test.each([
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ])('RFC 6238 Appendix B at T=%i', (seconds, sha1, sha256, sha512) => {
    const at = (algorithm: TotpAlgorithm) =>
      totpCode(base32(seeds[algorithm]).toLowerCase(), { timeMs: seconds * 1000, algorithm, digits: 8 });
    expect([at('SHA1'), at('SHA256'), at('SHA512')]).toEqual([sha1, sha256, sha512]);
  });

  test('defaults: SHA1, 6 digits, 30-second period', () => {
    const secret = base32(seeds.SHA1);
    expect(totpCode(secret, { timeMs: 59_000 })).toBe('287082');
    expect(totpCode(secret, { timeMs: 59_000, periodSeconds: 60 })).toBe('755224');
  });
});
