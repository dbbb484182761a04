/**
 * Golden vectors for SpareKey's stored recovery-code digest, format v1 (src/core/recovery-code-digest.ts).
 *
 * They pin every choice a stored row depends on, so a refactor can never make issued codes unverifiable:
 * - the KDF input is the UTF-8 of the canonical code (slot symbols + secret, upper case, no separators);
 * - Argon2id, version 0x13 (RFC 9106), 32-byte output, the per-code salt as argon2's salt and the pepper as
 *   argon2's keyed-hash `secret` input (63B-4 IPD 5.1.1.2; STANDARDS req 4, 5, 6);
 * - the text form `$v1$argon2id$m=<KiB>,t=<t>,p=<p>$<salt>$<hash>`, standard base64 without padding.
 *
 * Computed with @node-rs/argon2 2.2.1 and matched byte for byte by hash-wasm 4.13.0's independent argon2id
 * (the vector test repeats that cross-check). NEVER edit an expected digest: a changed format is a new
 * version (v2) with its own file, and v1 rows must keep verifying.
 */

export interface RecoveryCodeDigestVector {
  name: string;
  /** Canonical code, as normalizeRecoveryCode returns it. */
  code: string;
  saltHex: string;
  pepperHex: string;
  params: { memoryCostKiB: number; timeCost: number; parallelism: number };
  /** The exact stored string. */
  digest: string;
}

export const recoveryCodeDigestV1Vectors: readonly RecoveryCodeDigestVector[] = [
  {
    name: 'default format (1 slot + 10 secret symbols), lowest argon2 cost',
    code: 'K7Q2MX9HD4T',
    saltHex: '000102030405060708090a0b0c0d0e0f',
    pepperHex: '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f',
    params: { memoryCostKiB: 8, timeCost: 1, parallelism: 1 },
    digest: '$v1$argon2id$m=8,t=1,p=1$AAECAwQFBgcICQoLDA0ODw$hd5/PgFZsfBHCzAD0RjVNJDTOXrr8puUIZoujHoRV7s',
  },
  {
    name: 'two slot symbols, two lanes, three passes',
    code: 'Z07Q2MX9HD4T',
    saltHex: '101112131415161718191a1b1c1d1e1f',
    pepperHex: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf',
    params: { memoryCostKiB: 64, timeCost: 3, parallelism: 2 },
    digest: '$v1$argon2id$m=64,t=3,p=2$EBESExQVFhcYGRobHB0eHw$V/vxvVMS++p8sJ5FJcWUtxJ+ol20QUx9ZMclvG4sZGg',
  },
  {
    name: 'all-zero code (slot 0), lowest argon2 cost',
    code: '00000000000',
    saltHex: '202122232425262728292a2b2c2d2e2f',
    pepperHex: 'c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf',
    params: { memoryCostKiB: 8, timeCost: 1, parallelism: 1 },
    digest: '$v1$argon2id$m=8,t=1,p=1$ICEiIyQlJicoKSorLC0uLw$EXdm5qdThOyDgwZbUVOysXcq701zbyEXTFKKTVqpWPY',
  },
  {
    name: 'OWASP Password Storage CS minimum (m=19456 KiB, t=2, p=1)',
    code: 'K7Q2MX9HD4T',
    saltHex: '303132333435363738393a3b3c3d3e3f',
    pepperHex: 'e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff',
    params: { memoryCostKiB: 19456, timeCost: 2, parallelism: 1 },
    digest: '$v1$argon2id$m=19456,t=2,p=1$MDEyMzQ1Njc4OTo7PD0+Pw$F8IbqjD4BPnwaoJ2SWETLPcSSTwxFvvXFbujsGPI/mE',
  },
];
