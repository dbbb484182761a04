import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { systemRandom } from '../service/ports/system-random.js';
import type { RandomSource } from './random.js';
import { openSecret, type SealingKey, sealedKeyId, sealSecret } from './secret-box.js';

const KEY: SealingKey = { id: 'k1', key: new Uint8Array(32).fill(1) };
const OLD_KEY: SealingKey = { id: 'k0', key: new Uint8Array(32).fill(2) };
const KEYS: ReadonlyMap<string, Uint8Array> = new Map([
  [KEY.id, KEY.key],
  [OLD_KEY.id, OLD_KEY.key],
]);
const SEED = Uint8Array.from({ length: 20 }, (_, i) => i + 100);
const FACTOR_ID = 'factor-7f3a';

/** Flips one bit of the decoded byte at `index` in part `part` (2 = nonce, 3 = ciphertext||tag). */
function flipByte(sealed: string, part: 2 | 3, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[index] = bytes[index]! ^ 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('sealSecret / openSecret: TOTP seeds at rest (STANDARDS req 25; ASVS 4.0.3 2.8.2)', () => {
  it('round-trips a seed and names the key that sealed it', () => {
    const sealed = sealSecret(KEY, SEED, systemRandom, FACTOR_ID);
    expect(sealed).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(sealedKeyId(sealed)).toBe('k1');
    expect(openSecret(KEYS, sealed, FACTOR_ID)).toEqual(SEED);
  });

  it('round-trips any plaintext and associated data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.string(), (plaintext, associatedData) => {
        const sealed = sealSecret(KEY, plaintext, systemRandom, associatedData);
        expect(openSecret(KEYS, sealed, associatedData)).toEqual(plaintext);
      }),
    );
  });

  it('does not reveal the seed: neither raw nor Base32 nor hex appears in the sealed text', () => {
    const sealed = sealSecret(KEY, SEED, systemRandom, FACTOR_ID);
    expect(sealed).not.toContain(Buffer.from(SEED).toString('base64url'));
    expect(sealed).not.toContain(Buffer.from(SEED).toString('hex'));
  });

  it('gives two seals of the same plaintext different nonces and ciphertexts', () => {
    const a = sealSecret(KEY, SEED, systemRandom, FACTOR_ID);
    const b = sealSecret(KEY, SEED, systemRandom, FACTOR_ID);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
    expect(a.split('.')[3]).not.toBe(b.split('.')[3]);
  });

  it('takes its 12-byte nonce from the random source', () => {
    const requested: number[] = [];
    const random: RandomSource = {
      ...systemRandom,
      bytes: (length) => {
        requested.push(length);
        return new Uint8Array(length).fill(0xab);
      },
    };
    const sealed = sealSecret(KEY, SEED, random, FACTOR_ID);
    expect(requested).toEqual([12]);
    expect(sealed.split('.')[2]).toBe(Buffer.alloc(12, 0xab).toString('base64url'));
  });

  it('keeps values sealed under an older key readable while that key is still listed (rotation)', () => {
    const sealed = sealSecret(OLD_KEY, SEED, systemRandom, FACTOR_ID);
    expect(sealedKeyId(sealed)).toBe('k0');
    expect(openSecret(KEYS, sealed, FACTOR_ID)).toEqual(SEED);
    expect(openSecret(new Map([[KEY.id, KEY.key]]), sealed, FACTOR_ID)).toBeUndefined();
  });
});

describe('openSecret fails closed (STANDARDS req 25: "flipping one ciphertext byte makes verification fail")', () => {
  const sealed = sealSecret(KEY, SEED, systemRandom, FACTOR_ID);
  const bodyLength = Buffer.from(sealed.split('.')[3]!, 'base64url').length;

  it.each([0, 10, 19, 20, 35])('refuses a flipped byte at %i of ciphertext||tag', (index) => {
    expect(index).toBeLessThan(bodyLength);
    expect(openSecret(KEYS, flipByte(sealed, 3, index), FACTOR_ID)).toBeUndefined();
  });

  it('refuses a flipped nonce byte', () => {
    expect(openSecret(KEYS, flipByte(sealed, 2, 0), FACTOR_ID)).toBeUndefined();
  });

  it("refuses another row's associated data (a seed copied onto another factor)", () => {
    expect(openSecret(KEYS, sealed, 'factor-other')).toBeUndefined();
    expect(openSecret(KEYS, sealed, '')).toBeUndefined();
  });

  it('refuses an unknown key id, and a key id relabelled to another known key', () => {
    expect(openSecret(new Map(), sealed, FACTOR_ID)).toBeUndefined();
    expect(openSecret(KEYS, sealed.replace('.k1.', '.k0.'), FACTOR_ID)).toBeUndefined();
    // Even with the right key bytes under the new label: the key id is authenticated too.
    const relabelled = new Map([['k9', KEY.key]]);
    expect(openSecret(relabelled, sealed.replace('.k1.', '.k9.'), FACTOR_ID)).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['another version', 'v2.k1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA'],
    ['too few parts', 'v1.k1.AAAAAAAAAAAAAAAA'],
    ['too many parts', `${'x'}.${sealed}`],
    ['a short nonce', 'v1.k1.AAAA.AAAAAAAAAAAAAAAAAAAAAA'],
    ['a body shorter than the tag', 'v1.k1.AAAAAAAAAAAAAAAA.AAAA'],
    ['characters outside base64url', sealed.replace(/\.([^.]*)$/, '.+$1')],
  ])('refuses %s', (_label, text) => {
    expect(openSecret(KEYS, text, FACTOR_ID)).toBeUndefined();
  });

  it('refuses a key of the wrong length in the key ring', () => {
    expect(openSecret(new Map([['k1', new Uint8Array(16)]]), sealed, FACTOR_ID)).toBeUndefined();
  });
});

describe('sealSecret refuses misuse', () => {
  it('needs a 32-byte key and a key id that cannot break the format', () => {
    expect(() => sealSecret({ id: 'k1', key: new Uint8Array(16) }, SEED, systemRandom, FACTOR_ID)).toThrow(
      RangeError,
    );
    expect(() => sealSecret({ id: 'a.b', key: KEY.key }, SEED, systemRandom, FACTOR_ID)).toThrow(RangeError);
    expect(() => sealSecret({ id: '', key: KEY.key }, SEED, systemRandom, FACTOR_ID)).toThrow(RangeError);
  });
});
