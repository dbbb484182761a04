import { timingSafeEqual } from 'node:crypto';
import { hashRaw } from '@node-rs/argon2';
import type { RandomSource } from './random.js';
import {
  type IssuedRecoveryCode,
  MAX_RANDOM_REDRAWS,
  MAX_RECOVERY_CODE_INPUT_LENGTH,
} from './recovery-code.js';

export interface Argon2idParams {
  memoryCostKiB: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP Password Storage CS, Argon2id minimum row (STANDARDS req 6; ASVS 5.0 11.4.2). */
export const OWASP_ARGON2ID_PARAMS: Argon2idParams = Object.freeze({
  memoryCostKiB: 19456,
  timeCost: 2,
  parallelism: 1,
});
/** Tests and benchmarks only: the lowest cost argon2 accepts (m >= 8 KiB per lane). Never in production. */
export const MINIMUM_TEST_ARGON2ID_PARAMS: Argon2idParams = Object.freeze({
  memoryCostKiB: 8,
  timeCost: 1,
  parallelism: 1,
});
/** NIST SP 800-63B 5.1.2.2 asks for >= 32 bits per look-up secret; 128 bits makes collisions negligible. */
export const RECOVERY_CODE_SALT_BYTES = 16;
/** 63B-4 IPD 5.1.1.2: the pepper provides "at least ... 112 bits"; we generate 256. */
export const MIN_RECOVERY_CODE_PEPPER_BYTES = 14;
/** Argon2 output length of format v1. Part of the format: changing it needs a v2. */
const HASH_BYTES = 32;

/** The key-derivation function, injectable so tests can count calls (STANDARDS req 15, 47). */
export interface Kdf {
  derive(
    input: Uint8Array,
    salt: Uint8Array,
    params: Argon2idParams,
    pepper: Uint8Array,
  ): Promise<Uint8Array>;
}

/**
 * Argon2id v0x13 through @node-rs/argon2 (63B-4 IPD 5.1.1.2 names Argon2; STANDARDS D5 keeps it pluggable).
 * The pepper is argon2's keyed-hash `secret` input, held outside the database (63B-4 IPD 5.1.1.2, req 5).
 */
export const argon2idKdf: Kdf = {
  async derive(input, salt, params, pepper) {
    const hash = await hashRaw(input, {
      // Literal values: the package's enums are ambient `const enum`s, which isolatedModules cannot read.
      algorithm: 2, // Algorithm.Argon2id
      version: 1, // Version.V0x13 (argon2 version 19, the RFC 9106 one)
      memoryCost: params.memoryCostKiB,
      timeCost: params.timeCost,
      parallelism: params.parallelism,
      outputLen: HASH_BYTES,
      salt,
      secret: pepper,
    });
    return new Uint8Array(hash);
  },
};

const utf8 = new TextEncoder();
/** Canonical code alphabet (Crockford, upper case): only normalized codes may be stored. */
const CANONICAL_CODE = /^[0-9A-HJKMNP-TV-Z]+$/;

/**
 * The stored form of one code: `$v1$argon2id$m=<KiB>,t=<t>,p=<p>$<salt>$<hash>` (unpadded base64). Salt and
 * parameters travel with the hash (NIST SP 800-63B 5.1.2.2 "Both the salt value and the resulting hash SHALL
 * be stored for each look-up secret"; req 6: parameters can be raised later).
 */
export async function digestRecoveryCode(
  kdf: Kdf,
  input: { code: string; salt: Uint8Array; params: Argon2idParams; pepper: Uint8Array },
): Promise<string> {
  const { code, salt, params, pepper } = input;
  if (!CANONICAL_CODE.test(code) || code.length > MAX_RECOVERY_CODE_INPUT_LENGTH) {
    throw new RangeError('Only a canonical recovery code (normalizeRecoveryCode) can be digested.');
  }
  if (salt.length < RECOVERY_CODE_SALT_BYTES) {
    throw new RangeError(`A recovery-code salt needs at least ${RECOVERY_CODE_SALT_BYTES} bytes.`);
  }
  if (!areValidParams(params)) throw new RangeError('Invalid Argon2id parameters.');
  assertPepper(pepper);
  const hash = await kdf.derive(utf8.encode(code), salt, params, pepper);
  return formatDigest(params, salt, hash);
}

/**
 * A well-formed digest with `params` that no code matches (all-zero salt and hash). Verifying against it
 * still costs one KDF run, so an attempt on a slot that holds no code takes as long as any other.
 */
export function unmatchableRecoveryCodeDigest(params: Argon2idParams): string {
  return formatDigest(params, new Uint8Array(RECOVERY_CODE_SALT_BYTES), new Uint8Array(32));
}

function formatDigest(params: Argon2idParams, salt: Uint8Array, hash: Uint8Array): string {
  const { memoryCostKiB: m, timeCost: t, parallelism: p } = params;
  return `$v1$argon2id$m=${m},t=${t},p=${p}$${encodeBase64(salt)}$${encodeBase64(hash)}`;
}

/**
 * Whether `code` (already normalized) matches `digest`. Runs the KDF exactly once (STANDARDS req 15) and
 * compares in constant time (ASVS 5.0 11.2.4). Parameters come from the digest, so old rows keep verifying.
 */
export async function verifyRecoveryCodeDigest(
  kdf: Kdf,
  input: { code: string; digest: string; pepper: Uint8Array },
): Promise<boolean> {
  assertPepper(input.pepper);
  // Defence in depth for req 14: normalizeRecoveryCode has already refused oversized input.
  if (input.code.length > MAX_RECOVERY_CODE_INPUT_LENGTH) return false;
  const parsed = parseRecoveryCodeDigest(input.digest);
  // Skipping the KDF here changes the timing, and that is fine: an unparseable digest is a corrupted row or
  // an unknown future version read by old code, never something the person typing a code controls.
  if (parsed === undefined) return false;
  const candidate = await kdf.derive(utf8.encode(input.code), parsed.salt, parsed.params, input.pepper);
  return candidate.length === parsed.hash.length && timingSafeEqual(candidate, parsed.hash);
}

const DIGEST_V1 =
  /^\$v1\$argon2id\$m=([1-9]\d{0,9}),t=([1-9]\d{0,9}),p=([1-9]\d{0,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** The parts of a v1 digest, or undefined for anything else (other versions, garbage, out-of-range values). */
export function parseRecoveryCodeDigest(
  digest: string,
): { params: Argon2idParams; salt: Uint8Array; hash: Uint8Array } | undefined {
  const match = DIGEST_V1.exec(digest);
  if (match === null) return undefined;
  const [, m, t, p, saltText, hashText] = match;
  const params = { memoryCostKiB: Number(m), timeCost: Number(t), parallelism: Number(p) };
  const salt = decodeBase64(saltText!);
  const hash = decodeBase64(hashText!);
  if (!areValidParams(params) || salt === undefined || hash === undefined) return undefined;
  if (salt.length < RECOVERY_CODE_SALT_BYTES || hash.length !== HASH_BYTES) return undefined;
  return { params, salt, hash };
}

/**
 * Hashes a freshly generated set: each code gets its own salt (NIST SP 800-63B 5.1.2.2 "for each look-up
 * secret"; ASVS 4.0.3 2.6.2 "unique"; STANDARDS D1), and the KDF calls run in parallel.
 */
export async function hashRecoveryCodes(
  kdf: Kdf,
  random: RandomSource,
  codes: readonly IssuedRecoveryCode[],
  params: Argon2idParams,
  pepper: Uint8Array,
): Promise<{ slot: number; digest: string }[]> {
  const salts = drawDistinctSalts(random, codes.length);
  return Promise.all(
    codes.map(async ({ slot, code }, index) => ({
      slot,
      digest: await digestRecoveryCode(kdf, { code, salt: salts[index]!, params, pepper }),
    })),
  );
}

/** Salts are "arbitrarily chosen so as to minimize salt value collisions" (5.1.2.2): within a set, none. */
function drawDistinctSalts(random: RandomSource, count: number): Uint8Array[] {
  const seen = new Set<string>();
  const salts: Uint8Array[] = [];
  for (let redraws = 0; salts.length < count; ) {
    const salt = random.bytes(RECOVERY_CODE_SALT_BYTES);
    const key = Buffer.from(salt).toString('hex');
    if (!seen.has(key)) {
      seen.add(key);
      salts.push(salt);
    } else if (++redraws >= MAX_RANDOM_REDRAWS) {
      throw new Error('The random source keeps repeating salts; it is not a CSPRNG.');
    }
  }
  return salts;
}

/** Argon2's own limits (RFC 9106 3.1): 1..255 lanes, at least 8 KiB per lane, 32-bit counts. */
function areValidParams({ memoryCostKiB, timeCost, parallelism }: Argon2idParams): boolean {
  const isUint32 = (value: number) => Number.isInteger(value) && value >= 1 && value <= 0xffff_ffff;
  return (
    isUint32(memoryCostKiB) &&
    isUint32(timeCost) &&
    Number.isInteger(parallelism) &&
    parallelism >= 1 &&
    parallelism <= 255 &&
    memoryCostKiB >= 8 * parallelism
  );
}

function assertPepper(pepper: Uint8Array): void {
  if (pepper.length < MIN_RECOVERY_CODE_PEPPER_BYTES) {
    throw new RangeError(`The recovery-code pepper needs at least ${MIN_RECOVERY_CODE_PEPPER_BYTES} bytes.`);
  }
}

function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}

/** Strict: Node's decoder skips junk, so only text that re-encodes to itself is accepted. */
function decodeBase64(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  return encodeBase64(bytes) === text ? bytes : undefined;
}
