import { createHmac } from 'node:crypto';

/**
 * An authenticator app's side of TOTP, written from RFC 4226 and RFC 6238 alone (not with the otpauth
 * package the product uses), so browser tests check SpareKey against an independent implementation.
 */

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32; lower case, spaces and missing padding accepted, as apps accept typed keys. */
export function decodeBase32(text: string): Buffer {
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  let bits = 0;
  let value = 0;
  const bytes: number[] = [];
  for (const char of clean) {
    const index = BASE32_ALPHABET.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** RFC 4226 5.3: HMAC over the 8-byte counter, dynamic truncation, modulo 10^digits. */
export function hotpCode(key: Buffer, counter: number, digits = 6, algorithm = 'SHA1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm.toLowerCase().replace('sha', 'sha'), key).update(message).digest();
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** RFC 6238 4.2: T = floor(unix time / period). */
export function totpCode(
  secretBase32: string,
  options: {
    timeMs: number;
    algorithm?: 'SHA1' | 'SHA256' | 'SHA512';
    digits?: number;
    periodSeconds?: number;
  },
): string {
  const counter = Math.floor(options.timeMs / 1000 / (options.periodSeconds ?? 30));
  return hotpCode(decodeBase32(secretBase32), counter, options.digits ?? 6, options.algorithm ?? 'SHA1');
}
