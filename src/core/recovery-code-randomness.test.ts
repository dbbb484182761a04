import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemRandom } from '../service/ports/system-random.js';
import type { RandomSource } from './random.js';
import { CROCKFORD_ALPHABET, generateRecoveryCodes, type RecoveryCodeFormat } from './recovery-code.js';

/** Chi-square critical value for 31 degrees of freedom at p = 0.001 (scipy.stats.chi2.ppf(0.999, 31)). */
const CHI_SQUARE_CRITICAL_31_DF_P001 = 61.098;
const wideFormat: RecoveryCodeFormat = { slotLength: 1, secretLength: 32, groupSize: 4 };

/** Pearson's statistic of the secret symbols of `sets` sets of 32 codes against a uniform distribution. */
function secretSymbolChiSquare(random: RandomSource, sets: number): { statistic: number; symbols: number } {
  const counts = new Map<string, number>([...CROCKFORD_ALPHABET].map((symbol) => [symbol, 0]));
  let symbols = 0;
  for (let i = 0; i < sets; i++) {
    for (const { code } of generateRecoveryCodes(random, { count: 32, format: wideFormat })) {
      for (const symbol of code.slice(wideFormat.slotLength)) {
        counts.set(symbol, counts.get(symbol)! + 1);
        symbols++;
      }
    }
  }
  const expected = symbols / CROCKFORD_ALPHABET.length;
  let statistic = 0;
  for (const observed of counts.values()) statistic += (observed - expected) ** 2 / expected;
  return { statistic, symbols };
}

describe('recovery-code randomness', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  // A true uniform generator fails this 1 time in 1000 (that is what p = 0.001 means).
  it('req 1: 256,000 secret symbols from the system CSPRNG are uniform over the 32 symbols (chi-square, p > 0.001)', () => {
    const { statistic, symbols } = secretSymbolChiSquare(systemRandom, 250);
    expect(symbols).toBeGreaterThanOrEqual(200_000);
    expect(statistic).toBeLessThan(CHI_SQUARE_CRITICAL_31_DF_P001);
  });

  it('req 1: the chi-square check catches a generator that favours one symbol by 2%', () => {
    let draws = 0;
    const biased: RandomSource = {
      ...systemRandom,
      // Every 50th secret symbol is forced to 0: a 2% bias, the kind modulo reduction introduces.
      int: (maxExclusive) => (maxExclusive === 32 && ++draws % 50 === 0 ? 0 : systemRandom.int(maxExclusive)),
    };
    expect(secretSymbolChiSquare(biased, 250).statistic).toBeGreaterThan(CHI_SQUARE_CRITICAL_31_DF_P001);
  });

  it('req 7: 10,000 sets generated at one frozen instant share no code', () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      for (const { code } of generateRecoveryCodes(systemRandom, {
        count: 10,
        format: { slotLength: 1, secretLength: 10, groupSize: 5 },
      })) {
        expect(seen.has(code)).toBe(false);
        seen.add(code);
      }
    }
    expect(seen.size).toBe(100_000);
    expect(Date.now()).toBe(new Date('2026-01-01T00:00:00Z').getTime());
  });

  describe('req 1: no source file under src/ uses the non-cryptographic generator', () => {
    // Built from parts so this file does not match its own scan.
    const banned = new RegExp(['\\bMath', '\\s*(?:\\.\\s*|\\[\\s*[\'"`])', 'random\\b'].join(''));
    const srcRoot = join(import.meta.dirname, '..');

    it('the scan recognises the forms it bans', () => {
      for (const form of [['Math', 'random()'].join('.'), `Math['${'random'}']()`, `Math .${'random'}`]) {
        expect(banned.test(form)).toBe(true);
      }
      expect(banned.test('crypto.randomInt(0, 32)')).toBe(false);
    });

    it('finds no use in any .ts file under src/', () => {
      const files = readdirSync(srcRoot, { recursive: true, encoding: 'utf8' }).filter((file) =>
        file.endsWith('.ts'),
      );
      expect(files).toContain(join('core', 'recovery-code.ts'));
      const offenders = files.filter((file) => banned.test(readFileSync(join(srcRoot, file), 'utf8')));
      expect(offenders).toEqual([]);
    });
  });
});
