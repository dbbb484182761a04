import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { generateRecoveryCodes } from '../../src/service/recovery-codes/generate-recovery-codes.js';
import { verifyRecoveryCode } from '../../src/service/recovery-codes/verify-recovery-code.js';
import { backendAuthority } from '../../src/service/sign-in/change-authority.js';
import { testEngines } from '../helpers/engines.js';
import { configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import {
  createTestEnvironment,
  createTestUser,
  type TestEnvironment,
  UNTHROTTLED,
} from '../helpers/service-deps.js';

describe.each(testEngines())('verifyRecoveryCode on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine, { throttle: UNTHROTTLED });
  });
  afterEach(async () => env.close());

  async function userWithCodes(update = {}) {
    await configureRecoveryCodes(env, update);
    const user = await createTestUser(env);
    const { recoveryCodes } = await enableTotp(env, user.id);
    return { user, codes: recoveryCodes!.codes };
  }

  test('req 3 (ASVS 4.0.3 2.6.1): a code works once, then is refused as already used', async () => {
    const { user, codes } = await userWithCodes();
    const context = { ip: '198.51.100.7', userAgent: 'Firefox/140' };
    const first = await verifyRecoveryCode(env.deps, { userId: user.id, code: codes[0]!, context });
    expect(first).toEqual({ ok: true, value: { policy: 'continue', remaining: 9, total: 10, low: false } });
    const again = await verifyRecoveryCode(env.deps, { userId: user.id, code: codes[0]!, context });
    expect(again).toEqual({ ok: false, error: 'code_already_used' });
    const events = await env.deps.store.listAuditEvents({ userId: user.id, limit: 2 });
    expect(events.map((e) => [e.action, e.outcome, e.ip, e.userAgent])).toEqual([
      ['recovery_code_failed', 'failure', '198.51.100.7', 'Firefox/140'],
      ['recovery_code_used', 'success', '198.51.100.7', 'Firefox/140'],
    ]);
    expect(events[0]!.details).toEqual({ reason: 'code_already_used' });
  });

  test('req 14: case, spaces, dashes, underscores and Crockford aliases do not matter', async () => {
    const { user, codes } = await userWithCodes();
    const typed = codes.map(
      (code, i) =>
        [
          code.toLowerCase(),
          code.replaceAll('-', ' '),
          ` ${code.replaceAll('-', '')} `,
          code.replaceAll('-', '_').replaceAll('0', 'o').replaceAll('1', 'l'),
          code.replaceAll('1', 'i').toLowerCase(),
        ][i % 5]!,
    );
    for (const code of typed.slice(0, 5)) {
      const result = await verifyRecoveryCode(env.deps, { userId: user.id, code, context: {} });
      expect(result.ok, code).toBe(true);
    }
  });

  test('an unknown code is invalid, and one KDF run is spent on it', async () => {
    const { user, codes } = await userWithCodes();
    const real = codes[0]!;
    const wrongSecret = `${real.slice(0, -1)}${real.endsWith('0') ? '1' : '0'}`;
    env.kdf.calls = 0;
    expect(await verifyRecoveryCode(env.deps, { userId: user.id, code: wrongSecret, context: {} })).toEqual({
      ok: false,
      error: 'invalid_code',
    });
    expect(env.kdf.calls).toBe(1);
  });

  test('req 14: malformed input is refused before any KDF work, however long', async () => {
    const { user } = await userWithCodes();
    env.kdf.calls = 0;
    for (const code of ['', 'hello', 'U-UUUUU-UUUUU', '💥', 'A'.repeat(1_000_000), "' or 1=1 --"]) {
      const result = await verifyRecoveryCode(env.deps, { userId: user.id, code, context: {} });
      expect(result).toEqual({ ok: false, error: 'malformed_code' });
    }
    expect(env.kdf.calls).toBe(0);
  });

  test.each([1, 10, 32])(
    'req 15: verification runs the KDF exactly once for a set of %i codes',
    async (count) => {
      const { user, codes } = await userWithCodes({ codesPerSet: count, lowThreshold: 0 });
      expect(codes).toHaveLength(count);
      for (const code of [codes[count - 1]!, codes[count - 1]!, `${codes[0]!.slice(0, 2)}00000-00000`]) {
        env.kdf.calls = 0;
        await verifyRecoveryCode(env.deps, { userId: user.id, code, context: {} });
        expect(env.kdf.calls).toBe(1);
      }
    },
  );

  test('req 15: a set of 50 codes (two-symbol slots) still costs one KDF per attempt', async () => {
    const { user, codes } = await userWithCodes({ codesPerSet: 50, format: { slotLength: 2 } });
    expect(codes).toHaveLength(50);
    env.kdf.calls = 0;
    expect((await verifyRecoveryCode(env.deps, { userId: user.id, code: codes[49]!, context: {} })).ok).toBe(
      true,
    );
    expect(env.kdf.calls).toBe(1);
  });

  test('the master switch off refuses even a correct code', async () => {
    const { user, codes } = await userWithCodes();
    await configureRecoveryCodes(env, { enabled: false });
    expect(await verifyRecoveryCode(env.deps, { userId: user.id, code: codes[0]!, context: {} })).toEqual({
      ok: false,
      error: 'feature_disabled',
    });
  });

  test("another user's code is invalid for this user", async () => {
    const alice = await userWithCodes();
    const bob = await createTestUser(env);
    await enableTotp(env, bob.id);
    const bobCodes = await generateRecoveryCodes(env.deps, {
      authority: backendAuthority({ kind: 'library', actorId: 'test' }),
      userId: bob.id,
      context: {},
    });
    if (!bobCodes.ok) throw new Error(bobCodes.error);
    const result = await verifyRecoveryCode(env.deps, { userId: bob.id, code: alice.codes[0]!, context: {} });
    expect(result).toEqual({ ok: false, error: 'invalid_code' });
  });

  test('property: any unused code verifies in any mix of case and separators', async () => {
    const { user, codes } = await userWithCodes({ codesPerSet: 32, lowThreshold: 0 });
    let index = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 13, maxLength: 13 }),
        fc.constantFrom('', ' ', '-', '_'),
        async (upper, separator) => {
          const code = codes[index++]!;
          const typed = [...code.replaceAll('-', '')]
            .map((char, i) => (upper[i] ? char : char.toLowerCase()))
            .join(separator);
          const result = await verifyRecoveryCode(env.deps, { userId: user.id, code: typed, context: {} });
          expect(result.ok).toBe(true);
        },
      ),
      { numRuns: 32 },
    );
  });
});
