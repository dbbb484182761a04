/**
 * RFC 6238 "TOTP: Time-Based One-Time Password Algorithm", Appendix B "Test Vectors" (X = 30, T0 = 0,
 * 8 digits), with the seeds of the Appendix A reference implementation. Values copied verbatim, as
 * recorded in STANDARDS.md section 5.
 *
 * Erratum 2866: Appendix B's prose names the 20-byte ASCII seed for every mode, but the published SHA-256
 * and SHA-512 values come from the 32- and 64-byte seeds of Appendix A, which is why each mode has its own
 * seed below.
 */

export type Rfc6238Mode = 'SHA1' | 'SHA256' | 'SHA512';

/** Appendix A: `seed` (20 bytes), `seed32` (32 bytes) and `seed64` (64 bytes), hex, verbatim. */
export const RFC6238_SEEDS_HEX: Readonly<Record<Rfc6238Mode, string>> = {
  SHA1: '3132333435363738393031323334353637383930',
  SHA256: '3132333435363738393031323334353637383930' + '313233343536373839303132',
  SHA512:
    '3132333435363738393031323334353637383930' +
    '3132333435363738393031323334353637383930' +
    '3132333435363738393031323334353637383930' +
    '31323334',
};

/** The same seeds in RFC 4648 Base32, the form authenticator apps and otpauth's Secret.fromBase32 take. */
export const RFC6238_SEEDS_BASE32: Readonly<Record<Rfc6238Mode, string>> = {
  SHA1: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
  SHA256: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA',
  SHA512:
    'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA',
};

export const RFC6238_PERIOD_SECONDS = 30;
export const RFC6238_DIGITS = 8;

export interface Rfc6238Vector {
  timeSeconds: number;
  utcTime: string;
  /** "Value of T (hex)", 16 hex digits as printed. */
  stepHex: string;
  totp: string;
  mode: Rfc6238Mode;
}

// biome-ignore format: one row per line, as the RFC prints the table
export const RFC6238_APPENDIX_B: readonly Rfc6238Vector[] = [
  { timeSeconds: 59, utcTime: '1970-01-01 00:00:59', stepHex: '0000000000000001', totp: '94287082', mode: 'SHA1' },
  { timeSeconds: 59, utcTime: '1970-01-01 00:00:59', stepHex: '0000000000000001', totp: '46119246', mode: 'SHA256' },
  { timeSeconds: 59, utcTime: '1970-01-01 00:00:59', stepHex: '0000000000000001', totp: '90693936', mode: 'SHA512' },
  { timeSeconds: 1111111109, utcTime: '2005-03-18 01:58:29', stepHex: '00000000023523EC', totp: '07081804', mode: 'SHA1' },
  { timeSeconds: 1111111109, utcTime: '2005-03-18 01:58:29', stepHex: '00000000023523EC', totp: '68084774', mode: 'SHA256' },
  { timeSeconds: 1111111109, utcTime: '2005-03-18 01:58:29', stepHex: '00000000023523EC', totp: '25091201', mode: 'SHA512' },
  { timeSeconds: 1111111111, utcTime: '2005-03-18 01:58:31', stepHex: '00000000023523ED', totp: '14050471', mode: 'SHA1' },
  { timeSeconds: 1111111111, utcTime: '2005-03-18 01:58:31', stepHex: '00000000023523ED', totp: '67062674', mode: 'SHA256' },
  { timeSeconds: 1111111111, utcTime: '2005-03-18 01:58:31', stepHex: '00000000023523ED', totp: '99943326', mode: 'SHA512' },
  { timeSeconds: 1234567890, utcTime: '2009-02-13 23:31:30', stepHex: '000000000273EF07', totp: '89005924', mode: 'SHA1' },
  { timeSeconds: 1234567890, utcTime: '2009-02-13 23:31:30', stepHex: '000000000273EF07', totp: '91819424', mode: 'SHA256' },
  { timeSeconds: 1234567890, utcTime: '2009-02-13 23:31:30', stepHex: '000000000273EF07', totp: '93441116', mode: 'SHA512' },
  { timeSeconds: 2000000000, utcTime: '2033-05-18 03:33:20', stepHex: '0000000003F940AA', totp: '69279037', mode: 'SHA1' },
  { timeSeconds: 2000000000, utcTime: '2033-05-18 03:33:20', stepHex: '0000000003F940AA', totp: '90698825', mode: 'SHA256' },
  { timeSeconds: 2000000000, utcTime: '2033-05-18 03:33:20', stepHex: '0000000003F940AA', totp: '38618901', mode: 'SHA512' },
  { timeSeconds: 20000000000, utcTime: '2603-10-11 11:33:20', stepHex: '0000000027BC86AA', totp: '65353130', mode: 'SHA1' },
  { timeSeconds: 20000000000, utcTime: '2603-10-11 11:33:20', stepHex: '0000000027BC86AA', totp: '77737706', mode: 'SHA256' },
  { timeSeconds: 20000000000, utcTime: '2603-10-11 11:33:20', stepHex: '0000000027BC86AA', totp: '47863826', mode: 'SHA512' },
];
