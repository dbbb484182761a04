import { hash, verify } from '@node-rs/argon2';
import type { RandomSource } from './random.js';
import {
  type Argon2idParams,
  MINIMUM_TEST_ARGON2ID_PARAMS,
  OWASP_ARGON2ID_PARAMS,
} from './recovery-code-digest.js';

/** NIST SP 800-63B 5.1.1.2: at least 8 characters; verifiers SHOULD permit at least 64. */
export const PASSWORD_MIN_LENGTH = 8;
/** Far above 64; the cap bounds what one sign-in attempt can make the server hash. */
export const PASSWORD_MAX_LENGTH = 256;

export type PasswordProblem =
  | 'password_too_short'
  | 'password_too_long'
  | 'password_common'
  | 'password_contains_email';

/** OWASP Password Storage CS, argon2id's first row (m=19 MiB, t=2, p=1): the recovery-code cost. */
export const PASSWORD_ARGON2ID_PARAMS: Argon2idParams = OWASP_ARGON2ID_PARAMS;
/** Tests and benchmarks only. */
export const MINIMUM_TEST_PASSWORD_PARAMS: Argon2idParams = MINIMUM_TEST_ARGON2ID_PARAMS;

/**
 * 63B 5.1.1.2: Unicode passwords are normalized (NFKC) before they are checked or hashed, so the same
 * password typed on another keyboard or OS still matches.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

const codePoints = (text: string) => [...text].length;

/**
 * The checks of 63B 5.1.1.2: a length range and a blocklist of common and breached values, and no
 * composition rules. Also refuses a password that contains the account's email (a context-specific word).
 */
export function passwordProblem(
  password: string,
  context: { email?: string; commonPasswords: ReadonlySet<string> },
): PasswordProblem | undefined {
  const normalized = normalizePassword(password);
  const length = codePoints(normalized);
  if (length < PASSWORD_MIN_LENGTH) return 'password_too_short';
  if (length > PASSWORD_MAX_LENGTH) return 'password_too_long';
  const folded = normalized.toLowerCase();
  if (context.commonPasswords.has(folded)) return 'password_common';
  const email = context.email?.trim().toLowerCase();
  if (email) {
    const local = email.split('@')[0] ?? '';
    if (folded.includes(email) || (local.length >= 4 && folded.includes(local)))
      return 'password_contains_email';
  }
  return undefined;
}

function argonOptions(params: Argon2idParams, pepper: Uint8Array) {
  return {
    // Literal values: the package's enums are ambient `const enum`s, which isolatedModules cannot read.
    algorithm: 2, // Algorithm.Argon2id
    version: 1, // Version.V0x13
    memoryCost: params.memoryCostKiB,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
    secret: pepper,
  } as const;
}

/** An argon2id PHC string (`$argon2id$v=19$m=...`), keyed with the server's password pepper. */
export async function hashPassword(
  password: string,
  options: { pepper: Uint8Array; params: Argon2idParams },
): Promise<string> {
  const normalized = normalizePassword(password);
  if (codePoints(normalized) > PASSWORD_MAX_LENGTH) throw new RangeError('password too long to hash');
  return hash(normalized, argonOptions(options.params, options.pepper));
}

/** Constant-time verification by argon2; false (never an exception) for over-long input or a damaged hash. */
export async function verifyPassword(
  password: string,
  phc: string,
  options: { pepper: Uint8Array },
): Promise<boolean> {
  const normalized = normalizePassword(password);
  if (codePoints(normalized) > PASSWORD_MAX_LENGTH) return false;
  try {
    return await verify(phc, normalized, { secret: options.pepper });
  } catch {
    return false;
  }
}

/** A hash of a random password: unknown accounts are "verified" against it so timing reveals nothing. */
export function createDummyPasswordHash(
  random: RandomSource,
  pepper: Uint8Array,
  params: Argon2idParams,
): Promise<string> {
  return hashPassword(Buffer.from(random.bytes(24)).toString('base64url'), { pepper, params });
}
