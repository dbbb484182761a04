import { describe, expect, test } from 'vitest';
import { systemRandom } from '../service/ports/system-random.js';

import {
  buildSealingKeyRing,
  formatSealingKeys,
  parseSealingKeys,
  sealingKeyFromBytes,
} from './sealing-key-ring.js';
import { openSecret, sealSecret } from './secret-box.js';

const key = () => sealingKeyFromBytes(systemRandom.bytes(32));

describe('sealing-key ring (STANDARDS req 25, rotation)', () => {
  test('the file form reads back to the same keys in the same order', () => {
    const keys = [key(), key(), key()];
    const parsed = parseSealingKeys(formatSealingKeys(keys));
    expect(parsed).toEqual({ keys });
  });

  test('the environment form: comma-separated, base64 or hex', () => {
    const [a, b] = [key(), key()];
    const text = `${Buffer.from(a.key).toString('base64')}, ${Buffer.from(b.key).toString('hex')}`;
    expect(parseSealingKeys(text)).toEqual({ keys: [a, b] });
  });

  test('refuses a key that is not exactly 32 bytes, naming which one', () => {
    const good = Buffer.from(key().key).toString('base64');
    expect(parseSealingKeys(`${good},${Buffer.alloc(16).toString('base64')}`)).toEqual({
      problem: 'sealing key 2 is not 32 random bytes in base64 or hex',
    });
    expect(parseSealingKeys('not-a-key')).toHaveProperty('problem');
  });

  test('the newest key seals; every key, and the base key, opens', () => {
    const [newest, older, base] = [key(), key(), key()];
    const ring = buildSealingKeyRing([newest, older], base);
    expect(ring.current).toBe(newest);
    expect(ring.order).toEqual([newest.id, older.id, base.id]);
    for (const sealer of [newest, older, base]) {
      const sealed = sealSecret(sealer, new Uint8Array([1, 2, 3]), systemRandom, 'factor');
      expect(openSecret(ring.opening, sealed, 'factor')).toEqual(new Uint8Array([1, 2, 3]));
    }
    expect(buildSealingKeyRing([], base).current).toBe(base);
  });
});
