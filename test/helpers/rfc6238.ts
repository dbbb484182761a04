import { createHmac } from 'node:crypto';

/**
 * An authenticator app's side of TOTP, written from RFC 4226 and RFC 6238 alone (not with the otpauth
 * package the product uses), so browser tests check SpareKey against an independent implementation.
 */

export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32; lower case, spaces and missing padding accepted, as apps accept typed keys. */
export function decodeBase32(text: string): Buffer {
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  let bits = 0;
  let value = 0;
  const bytes: number[] = [];
  for (const char of clean) {
    const index = BASE32_ALPHABET.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(char)}`);
    // Only the low `bits` bits are pending; masking keeps `value` small however long the input.
    value = ((value << 5) | index) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  // Leftover bits (< 8) are the encoder's zero padding of the last quantum, not data.
  return Buffer.from(bytes);
}

/** RFC 4226 5.3: HMAC over the 8-byte big-endian counter, dynamic truncation, modulo 10^digits. */
export function hotpCode(
  key: Buffer,
  counter: number,
  digits = 6,
  algorithm: TotpAlgorithm = 'SHA1',
): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  // node:crypto names: sha1, sha256, sha512.
  const mac = createHmac(algorithm.toLowerCase(), key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** RFC 6238 4.2: T = floor((unix time - T0) / X), with T0 = 0. */
export function totpCode(
  secretBase32: string,
  options: {
    timeMs: number;
    algorithm?: TotpAlgorithm;
    digits?: number;
    periodSeconds?: number;
  },
): string {
  const { timeMs, algorithm = 'SHA1', digits = 6, periodSeconds = 30 } = options;
  const counter = Math.floor(timeMs / 1000 / periodSeconds);
  return hotpCode(decodeBase32(secretBase32), counter, digits, algorithm);
}
