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
