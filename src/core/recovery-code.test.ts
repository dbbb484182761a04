import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { systemRandom } from '../service/ports/system-random.js';
import type { RandomSource } from './random.js';
import {
  CROCKFORD_ALPHABET,
  DEFAULT_RECOVERY_CODE_FORMAT,
  displayRecoveryCode,
  generateRecoveryCodes,
  MIN_RECOVERY_CODE_ENTROPY_BITS,
  maxCodesPerSet,
  normalizeRecoveryCode,
  type RecoveryCodeFormat,
  recoveryCodeEntropyBits,
  validateRecoveryCodeOptions,
} from './recovery-code.js';

/** A RandomSource driven by fast-check, unbiased so sets do not collapse onto the same few values. */
function genRandom(g: fc.GeneratorValue): RandomSource {
  return {
    int: (maxExclusive) => g((max: number) => fc.noBias(fc.nat(max)), maxExclusive - 1),
    bytes: (length) => g((n: number) => fc.uint8Array({ minLength: n, maxLength: n }), length),
    uuid: () => g(fc.uuid),
  };
}

/** Replays `ints` in order (then fails loudly), recording every `maxExclusive` asked for. */
function scriptedRandom(ints: number[]): RandomSource & { asked: number[] } {
  const asked: number[] = [];
  let next = 0;
  return {
    asked,
    int: (maxExclusive) => {
      asked.push(maxExclusive);
      const value = ints[next++ % ints.length]!;
      if (value >= maxExclusive) throw new Error(`scripted ${value} >= ${maxExclusive}`);
      return value;
    },
    bytes: () => {
      throw new Error('not used');
    },
    uuid: () => {
      throw new Error('not used');
    },
  };
}

const formatArbitrary: fc.Arbitrary<RecoveryCodeFormat> = fc.record({
  slotLength: fc.constantFrom(1 as const, 2 as const),
  secretLength: fc.integer({ min: 8, max: 32 }),
  groupSize: fc.integer({ min: 3, max: 8 }),
});

describe('recovery-code format', () => {
  it('req 2: the default format has 50 bits of entropy and the slot adds none', () => {
    expect(recoveryCodeEntropyBits(DEFAULT_RECOVERY_CODE_FORMAT)).toBe(50);
    expect(recoveryCodeEntropyBits({ ...DEFAULT_RECOVERY_CODE_FORMAT, slotLength: 2 })).toBe(50);
    expect(validateRecoveryCodeOptions({ count: 10, format: DEFAULT_RECOVERY_CODE_FORMAT })).toEqual([]);
  });

  it('req 2: a 7-symbol secret (35 bits) is refused with a message that says what to do', () => {
    const format = { ...DEFAULT_RECOVERY_CODE_FORMAT, secretLength: 7 };
    expect(validateRecoveryCodeOptions({ count: 10, format })).toEqual([
      'Recovery codes need at least 40 bits of entropy: 7 symbols give 35 bits; use at least 8.',
    ]);
    expect(() => generateRecoveryCodes(scriptedRandom([0]), { count: 10, format })).toThrow(RangeError);
    expect(recoveryCodeEntropyBits({ ...format, secretLength: 8 })).toBe(MIN_RECOVERY_CODE_ENTROPY_BITS);
  });

  it('a slot symbol names one code, so a slot length of 1 allows 32 codes and 2 allows 1024', () => {
    expect(maxCodesPerSet(DEFAULT_RECOVERY_CODE_FORMAT)).toBe(32);
    expect(maxCodesPerSet({ ...DEFAULT_RECOVERY_CODE_FORMAT, slotLength: 2 })).toBe(1024);
    expect(validateRecoveryCodeOptions({ count: 32, format: DEFAULT_RECOVERY_CODE_FORMAT })).toEqual([]);
    const [problem] = validateRecoveryCodeOptions({ count: 33, format: DEFAULT_RECOVERY_CODE_FORMAT });
    expect(problem).toMatch(/from 1 to 32 .*slot length of 2/);
  });

  it.each([
    ['count 0', { count: 0 }, /number of codes/],
    ['fractional count', { count: 2.5 }, /number of codes/],
    ['NaN count', { count: Number.NaN }, /number of codes/],
    ['secret of 33 symbols', { secretLength: 33 }, /at most 32 symbols/],
    ['fractional secret length', { secretLength: 9.5 }, /whole number of symbols/],
    ['group size 2', { groupSize: 2 }, /group size/],
    ['group size 9', { groupSize: 9 }, /group size/],
    ['slot length 3', { slotLength: 3 }, /slot length must be 1 or 2/],
  ])('rejects %s', (_name, change, message) => {
    const { count = 10, ...formatChange } = change as { count?: number } & Partial<Record<string, number>>;
    const format = { ...DEFAULT_RECOVERY_CODE_FORMAT, ...formatChange } as RecoveryCodeFormat;
    const problems = validateRecoveryCodeOptions({ count, format });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('displays the slot, then the secret in groups', () => {
    expect(displayRecoveryCode('K7Q2MX9HD4T', DEFAULT_RECOVERY_CODE_FORMAT)).toBe('K-7Q2MX-9HD4T');
    const twoSlots = { ...DEFAULT_RECOVERY_CODE_FORMAT, slotLength: 2 as const };
    expect(displayRecoveryCode('K77Q2MX9HD4T', twoSlots)).toBe('K7-7Q2MX-9HD4T');
    expect(
      displayRecoveryCode('K7Q2MX9HD4TA', {
        ...DEFAULT_RECOVERY_CODE_FORMAT,
        secretLength: 11,
        groupSize: 4,
      }),
    ).toBe('K-7Q2M-X9HD-4TA');
    expect(() => displayRecoveryCode('K7Q2', DEFAULT_RECOVERY_CODE_FORMAT)).toThrow(RangeError);
  });
});

describe('generateRecoveryCodes', () => {
  it('req 1: draws each secret symbol with int(32) and each slot from the slots left (no modulo step)', () => {
    const random = scriptedRandom([5, 0, 29, 7, 3, 11, 2]);
    const codes = generateRecoveryCodes(random, { count: 3, format: DEFAULT_RECOVERY_CODE_FORMAT });
    expect(random.asked.slice(0, 3)).toEqual([32, 31, 30]);
    expect(random.asked.slice(3)).toEqual(Array(30).fill(32));
    // Partial Fisher–Yates over 0..31: swap 0<->5, keep 1 in place, swap 2<->31.
    expect(codes.map((code) => code.slot)).toEqual([5, 1, 31]);
    for (const { slot, code, display } of codes) {
      expect(code[0]).toBe(CROCKFORD_ALPHABET[slot]);
      expect(display).toBe(displayRecoveryCode(code, DEFAULT_RECOVERY_CODE_FORMAT));
    }
  });

  it('req 1: no two codes in a set share a slot or a secret, for any random draws (property)', () => {
    fc.assert(
      fc.property(fc.gen(), formatArbitrary, (g, format) => {
        const count = g(fc.integer, { min: 1, max: Math.min(maxCodesPerSet(format), 60) });
        const codes = generateRecoveryCodes(genRandom(g), { count, format });
        expect(codes).toHaveLength(count);
        expect(new Set(codes.map((c) => c.slot)).size).toBe(count);
        expect(new Set(codes.map((c) => c.code.slice(format.slotLength))).size).toBe(count);
        for (const { slot, code } of codes) {
          expect(slot).toBeLessThan(maxCodesPerSet(format));
          expect(normalizeRecoveryCode(code, format)).toEqual({ ok: true, slot, code });
        }
      }),
    );
  });

  it('req 1: a secret drawn twice in one set is redrawn', () => {
    // Slots 0 and 1, then secret 0000000000 twice, then 1111111111.
    const ints = [0, 0, ...Array(20).fill(0), ...Array(10).fill(1)];
    const codes = generateRecoveryCodes(scriptedRandom(ints), {
      count: 2,
      format: DEFAULT_RECOVERY_CODE_FORMAT,
    });
    expect(codes.map((c) => c.code)).toEqual(['00000000000', '11111111111']);
  });

  it('fails loudly instead of looping when the random source only repeats itself', () => {
    expect(() =>
      generateRecoveryCodes(scriptedRandom([0]), { count: 2, format: DEFAULT_RECOVERY_CODE_FORMAT }),
    ).toThrow(/not a CSPRNG/);
  });

  it('a set of 50 codes needs and uses a slot length of 2', () => {
    const format = { ...DEFAULT_RECOVERY_CODE_FORMAT, slotLength: 2 as const };
    expect(() =>
      generateRecoveryCodes(scriptedRandom([0]), { count: 50, format: DEFAULT_RECOVERY_CODE_FORMAT }),
    ).toThrow(RangeError);
    const codes = generateRecoveryCodes(systemRandom, { count: 50, format });
    expect(codes[0]!.display).toMatch(/^[0-9A-Z]{2}-[0-9A-Z]{5}-[0-9A-Z]{5}$/);
  });
});
