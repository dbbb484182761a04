import { describe, expect, test } from 'vitest';
import { systemRandom } from '../service/ports/system-random.js';
import {
  createDummyPasswordHash,
  hashPassword,
  MINIMUM_TEST_PASSWORD_PARAMS,
  PASSWORD_ARGON2ID_PARAMS,
  passwordProblem,
  verifyPassword,
} from './password.js';

const commonPasswords = new Set(['password123', 'qwertyuiop']);
const pepper = new Uint8Array(32).fill(3);
const options = { pepper, params: MINIMUM_TEST_PASSWORD_PARAMS };

describe('password rules (NIST SP 800-63B 5.1.1.2)', () => {
  test('at least 8 characters, counted in code points after NFKC; at most 256', () => {
    expect(passwordProblem('seven77', { commonPasswords })).toBe('password_too_short');
    expect(passwordProblem('eight888', { commonPasswords })).toBeUndefined();
    // 8 emoji are 16 UTF-16 units but 8 characters.
    expect(passwordProblem('🔑'.repeat(7), { commonPasswords })).toBe('password_too_short');
    expect(passwordProblem('🔑'.repeat(8), { commonPasswords })).toBeUndefined();
    expect(passwordProblem('x'.repeat(256), { commonPasswords })).toBeUndefined();
    expect(passwordProblem('x'.repeat(257), { commonPasswords })).toBe('password_too_long');
  });

  test('common and breached passwords are refused whatever their case or width; no composition rules', () => {
    expect(passwordProblem('Password123', { commonPasswords })).toBe('password_common');
    // Full-width letters normalize (NFKC) to the ASCII ones.
    expect(passwordProblem('ｑｗｅｒｔｙｕｉｏｐ', { commonPasswords })).toBe('password_common');
    expect(passwordProblem('correct horse battery staple', { commonPasswords })).toBeUndefined();
    expect(passwordProblem('alllowercaseletters', { commonPasswords })).toBeUndefined();
  });

  test('a password containing the account email or its local part is refused', () => {
    const email = 'Marguerite@example.test';
    expect(passwordProblem('marguerite-2026', { email, commonPasswords })).toBe('password_contains_email');
    expect(passwordProblem('x marguerite@example.test', { email, commonPasswords })).toBe(
      'password_contains_email',
    );
    expect(passwordProblem('ab-is-fine-here', { email: 'ab@example.test', commonPasswords })).toBeUndefined();
  });
});

describe('password hashing (OWASP Password Storage CS: argon2id, m=19 MiB, t=2, p=1)', () => {
  test('the default parameters are in the PHC string', async () => {
    const phc = await hashPassword('lantern-orchard', { pepper, params: PASSWORD_ARGON2ID_PARAMS });
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  test('round trip; NFKC makes differently composed input match; a wrong password or pepper fails', async () => {
    const phc = await hashPassword('café-lantern', options);
    expect(await verifyPassword('café-lantern', phc, { pepper })).toBe(true);
    expect(await verifyPassword('cafe\u0301-lantern', phc, { pepper })).toBe(true);
    expect(await verifyPassword('cafe-lantern', phc, { pepper })).toBe(false);
    expect(await verifyPassword('café-lantern', phc, { pepper: new Uint8Array(32).fill(4) })).toBe(false);
  });

  test('a damaged hash or an over-long input is false, never an exception', async () => {
    expect(await verifyPassword('anything-at-all', 'not a hash', { pepper })).toBe(false);
    const phc = await hashPassword('lantern-orchard', options);
    expect(await verifyPassword('x'.repeat(10_000), phc, { pepper })).toBe(false);
    await expect(hashPassword('x'.repeat(257), options)).rejects.toThrow(RangeError);
  });

  test('the dummy hash (for unknown accounts) verifies nothing', async () => {
    const dummy = await createDummyPasswordHash(systemRandom, pepper, MINIMUM_TEST_PASSWORD_PARAMS);
    expect(await verifyPassword('lantern-orchard', dummy, { pepper })).toBe(false);
  });
});
