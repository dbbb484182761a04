import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { systemRandom } from '../service/ports/system-random.js';

import {
  CROCKFORD_ALPHABET,
  DEFAULT_RECOVERY_CODE_FORMAT,
  generateRecoveryCodes,
  MAX_RECOVERY_CODE_INPUT_LENGTH,
  normalizeRecoveryCode,
  type RecoveryCodeFormat,
} from './recovery-code.js';

const format = DEFAULT_RECOVERY_CODE_FORMAT;
const twoSlots: RecoveryCodeFormat = { ...format, slotLength: 2 };

/** What a person may type for each canonical symbol (Crockford decoding rules, STANDARDS 4). */
function typedVariants(symbol: string): string[] {
  if (symbol === '0') return ['0', 'O', 'o'];
  if (symbol === '1') return ['1', 'I', 'i', 'L', 'l'];
  return [symbol, symbol.toLowerCase()];
}

describe('normalizeRecoveryCode', () => {
  it('returns the canonical code and the slot number for the display form', () => {
    expect(normalizeRecoveryCode('K-7Q2MX-9HD4T', format)).toEqual({
      ok: true,
      slot: 19,
      code: 'K7Q2MX9HD4T',
    });
    // Two slot symbols are one base-32 number: K=19, 7=7 -> 19 * 32 + 7.
    expect(normalizeRecoveryCode('k7-7q2mx-9hd4t', twoSlots)).toEqual({
      ok: true,
      slot: 615,
      code: 'K77Q2MX9HD4T',
    });
    expect(normalizeRecoveryCode('ZZ-00000-00000', twoSlots)).toMatchObject({ ok: true, slot: 1023 });
  });

  it('req 14: aliases map as Crockford says (O->0, I/L->1) and separators vanish', () => {
    expect(normalizeRecoveryCode(' o-iLlO_o\t00000 \n', format)).toEqual({
      ok: true,
      slot: 0,
      code: '01110000000',
    });
  });

  it('req 14: every generated code normalizes back to itself after any mix of case changes, separators and alias substitutions (property)', () => {
    const separators = fc.constantFrom('', '', '', ' ', '-', '_', '\t', '\u00a0');
    fc.assert(
      fc.property(
        fc.constantFrom(format, twoSlots, { slotLength: 1 as const, secretLength: 16, groupSize: 4 }),
        fc.gen(),
        (codeFormat, g) => {
          const [issued] = generateRecoveryCodes(systemRandom, { count: 1, format: codeFormat });
          const start = g(fc.constantFrom, issued!.code, issued!.display);
          let typed = g(() => separators);
          for (const character of start) {
            const symbols = character === '-' ? ['-', ' ', ''] : typedVariants(character);
            typed += g(fc.constantFrom, ...symbols) + g(() => separators);
          }
          expect(typed.length).toBeLessThanOrEqual(MAX_RECOVERY_CODE_INPUT_LENGTH);
          expect(normalizeRecoveryCode(typed, codeFormat)).toEqual({
            ok: true,
            slot: issued!.slot,
            code: issued!.code,
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each([
    ['U, the check-only symbol', 'K-7Q2MX-9HD4U'],
    ['lower-case u', 'k-7q2mx-9hd4u'],
    ['punctuation', 'K-7Q2MX-9HD4*'],
    ['a dot as separator', 'K.7Q2MX.9HD4T'],
    ['an accented letter', 'K-7Q2MX-9HD4É'],
    ['dotless i, whose upper case is I', 'K-7Q2MX-9HD4ı'],
    ['long s, whose upper case is S', 'K-7Q2MX-9HD4ſ'],
    ['a full-width digit', 'K-7Q2MX-9HD4１'],
    ['an emoji', 'K-7Q2MX-9HD4🔑'],
    ['one symbol short', 'K-7Q2MX-9HD4'],
    ['one symbol long', 'K-7Q2MX-9HD4TT'],
    ['the secret without its slot', '7Q2MX-9HD4T'],
    ['nothing', ''],
    ['only separators', ' - _ '],
  ])('req 14: %s is malformed', (_name, input) => {
    expect(normalizeRecoveryCode(input, format)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('req 14: input longer than the cap is malformed even if it would strip down to a valid code', () => {
    const padded = `K-7Q2MX-9HD4T${' '.repeat(MAX_RECOVERY_CODE_INPUT_LENGTH)}`;
    expect(normalizeRecoveryCode(padded.slice(0, MAX_RECOVERY_CODE_INPUT_LENGTH), format)).toMatchObject({
      ok: true,
    });
    expect(normalizeRecoveryCode(padded.slice(0, MAX_RECOVERY_CODE_INPUT_LENGTH + 1), format)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('req 14: a 1 MB string of valid symbols is malformed (the length cap, not the alphabet, refuses it)', () => {
    expect(normalizeRecoveryCode('K'.repeat(1024 * 1024), format)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('never throws and only ever returns canonical codes of the right length, for any string (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ maxLength: 80 })),
        (input) => {
          const result = normalizeRecoveryCode(input, format);
          if (result.ok) {
            expect(result.code).toMatch(new RegExp(`^[${CROCKFORD_ALPHABET}]{11}$`));
            expect(result.slot).toBe(CROCKFORD_ALPHABET.indexOf(result.code[0]!));
          }
        },
      ),
    );
  });
});
