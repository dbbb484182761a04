import type { RandomSource } from './random.js';

/**
 * Crockford Base32 (STANDARDS 4): 10 digits and 22 letters, without I, L, O (confusable with 1 and 0) and U.
 * A symbol's value is its index, 0..31.
 */
export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ALPHABET_SIZE = CROCKFORD_ALPHABET.length;
const BITS_PER_SYMBOL = Math.log2(ALPHABET_SIZE);

/**
 * The shape of a printed code: `slotLength` non-secret slot symbols, then `secretLength` secret symbols,
 * shown in groups of `groupSize`. Example with the default: `K-7Q2MX-9HD4T`.
 */
export interface RecoveryCodeFormat {
  slotLength: 1 | 2;
  secretLength: number;
  groupSize: number;
}

export const DEFAULT_RECOVERY_CODE_FORMAT: RecoveryCodeFormat = Object.freeze({
  slotLength: 1,
  secretLength: 10,
  groupSize: 5,
});

/** NIST SP 800-63B 5.1.2.1 requires at least 20 bits; ours is stricter (STANDARDS req 2). */
export const MIN_RECOVERY_CODE_ENTROPY_BITS = 40;
/** 32 symbols = 160 bits, far past the 112-bit line; longer codes only make typing harder. */
const MAX_SECRET_LENGTH = 32;
const MIN_GROUP_SIZE = 3;
const MAX_GROUP_SIZE = 8;
/**
 * Auth CS "Has a maximum input length": checked before any other work (STANDARDS req 14). The longest valid
 * display form (2 + 32 symbols in groups of 3, with dashes) has 46 characters, so 64 leaves room for spaces.
 */
export const MAX_RECOVERY_CODE_INPUT_LENGTH = 64;
/** A real CSPRNG repeats a >= 40-bit secret or a 128-bit salt essentially never; a loop this long means it is broken. */
export const MAX_RANDOM_REDRAWS = 16;

/** Entropy of one code: only the secret counts; the slot is printed in the clear and guessable. */
export function recoveryCodeEntropyBits(format: RecoveryCodeFormat): number {
  return format.secretLength * BITS_PER_SYMBOL;
}

/** Each code in a set owns one slot, so the slot length bounds the set size. */
export function maxCodesPerSet(format: RecoveryCodeFormat): number {
  return ALPHABET_SIZE ** format.slotLength;
}

/** Human-readable problems with a count and format; empty when fine. */
export function validateRecoveryCodeOptions(options: {
  count: number;
  format: RecoveryCodeFormat;
}): string[] {
  const { count, format } = options;
  const problems: string[] = [];
  const slotLengthValid = format.slotLength === 1 || format.slotLength === 2;
  if (!slotLengthValid) problems.push('The slot length must be 1 or 2 symbols.');
  problems.push(...secretLengthProblems(format.secretLength));
  if (!isIntegerInRange(format.groupSize, MIN_GROUP_SIZE, MAX_GROUP_SIZE)) {
    problems.push(`The group size must be a whole number from ${MIN_GROUP_SIZE} to ${MAX_GROUP_SIZE}.`);
  }
  const maxCount = slotLengthValid ? maxCodesPerSet(format) : ALPHABET_SIZE;
  if (!isIntegerInRange(count, 1, maxCount)) {
    const hint = format.slotLength === 1 ? '; use a slot length of 2 for larger sets' : '';
    problems.push(
      `The number of codes must be a whole number from 1 to ${maxCount}` +
        ` (a slot length of ${format.slotLength} names at most ${maxCount} codes${hint}).`,
    );
  }
  return problems;
}

function secretLengthProblems(secretLength: number): string[] {
  if (!Number.isInteger(secretLength) || secretLength < 1) {
    return ['The secret length must be a whole number of symbols.'];
  }
  const minLength = Math.ceil(MIN_RECOVERY_CODE_ENTROPY_BITS / BITS_PER_SYMBOL);
  if (secretLength < minLength) {
    const bits = secretLength * BITS_PER_SYMBOL;
    return [
      `Recovery codes need at least ${MIN_RECOVERY_CODE_ENTROPY_BITS} bits of entropy: ` +
        `${secretLength} symbols give ${bits} bits; use at least ${minLength}.`,
    ];
  }
  if (secretLength > MAX_SECRET_LENGTH) {
    return [`The secret can have at most ${MAX_SECRET_LENGTH} symbols; ${secretLength} is too long to type.`];
  }
  return [];
}

function isIntegerInRange(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/** One printed code: `code` is canonical (what is hashed), `display` is what the user sees. */
export interface IssuedRecoveryCode {
  slot: number;
  code: string;
  display: string;
}

/**
 * A fresh set of codes. Throws RangeError on invalid options (programmer misuse: config is validated at
 * start-up) and Error if `random` keeps repeating itself (a broken generator, never a real CSPRNG).
 */
export function generateRecoveryCodes(
  random: RandomSource,
  options: { count: number; format: RecoveryCodeFormat },
): IssuedRecoveryCode[] {
  const problems = validateRecoveryCodeOptions(options);
  if (problems.length > 0) throw new RangeError(problems.join(' '));
  const { count, format } = options;
  const slots = drawDistinctSlots(random, count, maxCodesPerSet(format));
  const secrets = new Set<string>();
  return slots.map((slot) => {
    const secret = drawUnusedSecret(random, format.secretLength, secrets);
    secrets.add(secret);
    const code = encodeSlot(slot, format.slotLength) + secret;
    return { slot, code, display: displayRecoveryCode(code, format) };
  });
}

/**
 * Partial Fisher–Yates over 0..slotCount-1: distinct slots in random order. NIST SP 800-63B 5.1.2.2 lets the
 * verifier ask for "a specific (e.g., numbered) secret"; the slot names it, so verification loads one salt
 * and runs one KDF (STANDARDS D1 option a, req 15). Random rather than 0, 1, 2... so nothing is counted.
 */
function drawDistinctSlots(random: RandomSource, count: number, slotCount: number): number[] {
  const pool = Array.from({ length: slotCount }, (_, index) => index);
  for (let i = 0; i < count; i++) {
    const j = i + random.int(slotCount - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}

/** STANDARDS req 1: no two codes in a set share a secret, so a redraw is the rule, not a hope. */
function drawUnusedSecret(random: RandomSource, length: number, used: ReadonlySet<string>): string {
  for (let attempt = 0; attempt < MAX_RANDOM_REDRAWS; attempt++) {
    const secret = drawSecret(random, length);
    if (!used.has(secret)) return secret;
  }
  throw new Error('The random source keeps repeating recovery-code secrets; it is not a CSPRNG.');
}

/**
 * STANDARDS 4 "Generate symbols directly": one uniform draw per symbol from a CSPRNG-backed `int`, which is
 * unbiased by contract (NIST SP 800-63B 5.1.2.1), so every symbol carries exactly 5 bits.
 */
function drawSecret(random: RandomSource, length: number): string {
  let secret = '';
  for (let i = 0; i < length; i++) secret += CROCKFORD_ALPHABET[random.int(ALPHABET_SIZE)];
  return secret;
}

/** Base-32 big-endian digits of the slot value, padded to `slotLength` symbols. */
function encodeSlot(slot: number, slotLength: number): string {
  let symbols = '';
  for (let i = slotLength - 1; i >= 0; i--) {
    symbols += CROCKFORD_ALPHABET[Math.floor(slot / ALPHABET_SIZE ** i) % ALPHABET_SIZE];
  }
  return symbols;
}

/** The user-facing form: slot, then the secret in groups, joined by '-' (Crockford: hyphens aid reading). */
export function displayRecoveryCode(code: string, format: RecoveryCodeFormat): string {
  if (code.length !== format.slotLength + format.secretLength) {
    throw new RangeError(
      `A canonical code in this format has ${format.slotLength + format.secretLength} symbols.`,
    );
  }
  const parts = [code.slice(0, format.slotLength)];
  for (let start = format.slotLength; start < code.length; start += format.groupSize) {
    parts.push(code.slice(start, start + format.groupSize));
  }
  return parts.join('-');
}

export type NormalizedRecoveryCode =
  | { ok: true; slot: number; code: string }
  | { ok: false; reason: 'malformed' };

const MALFORMED: NormalizedRecoveryCode = Object.freeze({ ok: false, reason: 'malformed' });

/**
 * ASCII character -> symbol value. Crockford decoding: either case, "i and l will be treated as 1 and o
 * will be treated as 0"; U is only a check symbol, so it is absent. Built over ASCII only, so no Unicode
 * case mapping can sneak a character in (e.g. dotless 'ı'.toUpperCase() === 'I').
 */
const SYMBOL_VALUES: ReadonlyMap<string, number> = (() => {
  const values = new Map<string, number>();
  [...CROCKFORD_ALPHABET].forEach((symbol, value) => {
    values.set(symbol, value);
    values.set(symbol.toLowerCase(), value);
  });
  for (const alias of 'Oo') values.set(alias, 0);
  for (const alias of 'IiLl') values.set(alias, 1);
  return values;
})();

/** STANDARDS req 14: spaces, '-' and '_' are ignored wherever they are typed. */
const SEPARATOR = /[\s_-]/u;

/**
 * Turns what a person typed into the canonical code (what is hashed) and its slot number. Anything that is
 * not a code is a `malformed` value, never an exception, and never reaches the KDF.
 */
export function normalizeRecoveryCode(input: string, format: RecoveryCodeFormat): NormalizedRecoveryCode {
  // Auth CS "maximum input length": refuse oversized input before looking at a single character.
  if (typeof input !== 'string' || input.length > MAX_RECOVERY_CODE_INPUT_LENGTH) return MALFORMED;
  const expectedLength = format.slotLength + format.secretLength;
  const values: number[] = [];
  for (const character of input) {
    if (SEPARATOR.test(character)) continue;
    const value = SYMBOL_VALUES.get(character);
    if (value === undefined || values.length === expectedLength) return MALFORMED;
    values.push(value);
  }
  if (values.length !== expectedLength) return MALFORMED;
  let slot = 0;
  for (const value of values.slice(0, format.slotLength)) slot = slot * ALPHABET_SIZE + value;
  return { ok: true, slot, code: values.map((value) => CROCKFORD_ALPHABET[value]).join('') };
}
