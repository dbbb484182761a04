import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { RandomSource } from '../../core/random.js';

/**
 * Node's CSPRNG (NIST SP 800-63B 5.1.2.1 "approved random bit generator"; ASVS 5.0 6.5.3): the one
 * RandomSource production wires in. It lives outside core so core stays free of randomness of its own.
 */
export const systemRandom: RandomSource = {
  bytes: (length) => new Uint8Array(randomBytes(length)),
  int: (maxExclusive) => randomInt(0, maxExclusive),
  uuid: () => randomUUID(),
};
