import { randomBytes, randomInt, randomUUID } from 'node:crypto';

/**
 * Where core gets randomness. Core functions take a RandomSource as an argument and never call the
 * system generator themselves, so tests can be deterministic where they need to be.
 */
export interface RandomSource {
  /** `length` bytes from a CSPRNG. */
  bytes(length: number): Uint8Array;
  /** A uniform integer in [0, maxExclusive), without modulo bias. */
  int(maxExclusive: number): number;
  /** A random (v4) UUID, used for row identifiers. */
  uuid(): string;
}

/** Node's CSPRNG (NIST SP 800-63B 5.1.2.1 "approved random bit generator"; ASVS 5.0 6.5.3). */
export const systemRandom: RandomSource = {
  bytes: (length) => new Uint8Array(randomBytes(length)),
  int: (maxExclusive) => randomInt(0, maxExclusive),
  uuid: () => randomUUID(),
};
