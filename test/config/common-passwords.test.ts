import { describe, expect, test } from 'vitest';
import { loadCommonPasswords } from '../../src/config/common-passwords.js';

describe('the bundled common-password list', () => {
  test('holds the well-known ones, lowercased, without comment lines', () => {
    const list = loadCommonPasswords();
    expect(list.size).toBeGreaterThan(10_000);
    for (const password of ['password', 'qwertyuiop', 'password123', 'iloveyou'])
      expect(list.has(password)).toBe(true);
    expect([...list].some((entry) => entry.startsWith('#') || entry !== entry.toLowerCase())).toBe(false);
    expect(loadCommonPasswords()).toBe(list);
  });
});
