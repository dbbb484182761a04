/**
 * RFC 4226 "HOTP: An HMAC-Based One-Time Password Algorithm", Appendix D "HOTP Algorithm: Test Values".
 * Values copied verbatim from Appendix D (Table 1: HMAC-SHA-1 of the counter; Table 2: the dynamic
 * truncation and the resulting 6-digit HOTP), as recorded in STANDARDS.md section 5.
 */

/** Appendix D: "Secret = 0x3132333435363738393031323334353637383930", the ASCII string "12345678901234567890". */
export const RFC4226_SECRET_HEX = '3132333435363738393031323334353637383930';
export const RFC4226_SECRET_ASCII = '12345678901234567890';
export const RFC4226_SECRET_BASE32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
export const RFC4226_DIGITS = 6;

export interface Rfc4226Vector {
  count: number;
  /** Table 1: HMAC-SHA-1(secret, count), hex. */
  hmacHex: string;
  /** Table 2: the 31-bit dynamically truncated value, hex as printed (no leading zeros). */
  truncatedHex: string;
  truncatedDecimal: number;
  hotp: string;
}

// biome-ignore format: one row per line, as the RFC prints the table
export const RFC4226_APPENDIX_D: readonly Rfc4226Vector[] = [
  { count: 0, hmacHex: 'cc93cf18508d94934c64b65d8ba7667fb7cde4b0', truncatedHex: '4c93cf18', truncatedDecimal: 1284755224, hotp: '755224' },
  { count: 1, hmacHex: '75a48a19d4cbe100644e8ac1397eea747a2d33ab', truncatedHex: '41397eea', truncatedDecimal: 1094287082, hotp: '287082' },
  { count: 2, hmacHex: '0bacb7fa082fef30782211938bc1c5e70416ff44', truncatedHex: '82fef30', truncatedDecimal: 137359152, hotp: '359152' },
  { count: 3, hmacHex: '66c28227d03a2d5529262ff016a1e6ef76557ece', truncatedHex: '66ef7655', truncatedDecimal: 1726969429, hotp: '969429' },
  { count: 4, hmacHex: 'a904c900a64b35909874b33e61c5938a8e15ed1c', truncatedHex: '61c5938a', truncatedDecimal: 1640338314, hotp: '338314' },
  { count: 5, hmacHex: 'a37e783d7b7233c083d4f62926c7a25f238d0316', truncatedHex: '33c083d4', truncatedDecimal: 868254676, hotp: '254676' },
  { count: 6, hmacHex: 'bc9cd28561042c83f219324d3c607256c03272ae', truncatedHex: '7256c032', truncatedDecimal: 1918287922, hotp: '287922' },
  { count: 7, hmacHex: 'a4fb960c0bc06e1eabb804e5b397cdc4b45596fa', truncatedHex: '4e5b397', truncatedDecimal: 82162583, hotp: '162583' },
  { count: 8, hmacHex: '1b3c89f65e6c9e883012052823443f048b4332db', truncatedHex: '2823443f', truncatedDecimal: 673399871, hotp: '399871' },
  { count: 9, hmacHex: '1637409809a679dc698207310c8c7fc07290d9e5', truncatedHex: '2679dc69', truncatedDecimal: 645520489, hotp: '520489' },
];
