import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { isMfaEnabled } from '../../src/service/factors/mfa-state.js';
import { getRecoveryCodeStatus } from '../../src/service/recovery-codes/recovery-code-status.js';
import { verifyRecoveryCode } from '../../src/service/recovery-codes/verify-recovery-code.js';
import { testEngines } from '../helpers/engines.js';
import { configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { createTestEnvironment, createTestUser, type TestEnvironment } from '../helpers/service-deps.js';

describe.each(testEngines())('post-recovery policies on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine);
  });
  afterEach(async () => env.close());

  test('continue: signs in, the rest of the set stays valid, the remaining count is reported', async () => {
    await configureRecoveryCodes(env, { policy: 'continue' });
    const user = await createTestUser(env);
    const { codes } = (await enableTotp(env, user.id)).recoveryCodes!;
    expect(await verifyRecoveryCode(env.deps, { userId: user.id, code: codes[0]!, context: {} })).toEqual({
      ok: true,
      value: { policy: 'continue', remaining: 9, total: 10, low: false },
    });
    expect((await verifyRecoveryCode(env.deps, { userId: user.id, code: codes[1]!, context: {} })).ok).toBe(
      true,
    );
    expect(await isMfaEnabled(env.deps.store, user.id)).toBe(true);
  });

  test('disable_mfa: signs in, turns two-factor off and deletes the codes, audited', async () => {
    await configureRecoveryCodes(env, { policy: 'disable_mfa' });
    const user = await createTestUser(env);
    const { codes } = (await enableTotp(env, user.id)).recoveryCodes!;
    const result = await verifyRecoveryCode(env.deps, { userId: user.id, code: codes[2]!, context: {} });
    expect(result).toEqual({ ok: true, value: { policy: 'disable_mfa' } });
    expect(await isMfaEnabled(env.deps.store, user.id)).toBe(false);
    expect(await env.deps.store.listFactors(user.id)).toEqual([]);
    expect(await getRecoveryCodeStatus(env.deps, { userId: user.id })).toMatchObject({ hasCodes: false });
    const actions = (await env.deps.store.listAuditEvents({ userId: user.id, limit: 2 })).map(
      (e) => e.action,
    );
    expect(actions).toEqual(['mfa_disabled', 'recovery_code_used']);
    expect((await verifyRecoveryCode(env.deps, { userId: user.id, code: codes[3]!, context: {} })).ok).toBe(
      false,
    );
  });

  test("rotate with one code (Auth0's model): the used code is replaced by a new one, shown once", async () => {
    await configureRecoveryCodes(env, { policy: 'rotate', codesPerSet: 1, lowThreshold: 0 });
    const user = await createTestUser(env);
    const { codes } = (await enableTotp(env, user.id)).recoveryCodes!;
    expect(codes).toHaveLength(1);
    const result = await verifyRecoveryCode(env.deps, { userId: user.id, code: codes[0]!, context: {} });
    if (!result.ok || result.value.policy !== 'rotate') throw new Error(JSON.stringify(result));
    const [replacement] = result.value.replacement.codes;
    expect(replacement).not.toBe(codes[0]);
    expect(
      await verifyRecoveryCode(env.deps, { userId: user.id, code: codes[0]!, context: {} }),
    ).toMatchObject({
      ok: false,
    });
    expect(await getRecoveryCodeStatus(env.deps, { userId: user.id })).toMatchObject({
      total: 1,
      remaining: 1,
    });
    const next = await verifyRecoveryCode(env.deps, { userId: user.id, code: replacement!, context: {} });
    expect(next).toMatchObject({ ok: true, value: { policy: 'rotate' } });
    const actions = (await env.deps.store.listAuditEvents({ userId: user.id, limit: 2 })).map(
      (e) => e.action,
    );
    expect(actions).toEqual(['recovery_codes_regenerated', 'recovery_code_used']);
  });

  test('rotate with a set of ten: the whole used set is replaced', async () => {
    await configureRecoveryCodes(env, { policy: 'rotate' });
    const user = await createTestUser(env);
    const { codes } = (await enableTotp(env, user.id)).recoveryCodes!;
    const result = await verifyRecoveryCode(env.deps, { userId: user.id, code: codes[0]!, context: {} });
    if (!result.ok || result.value.policy !== 'rotate') throw new Error(JSON.stringify(result));
    expect(result.value.replacement.codes).toHaveLength(10);
    expect(await verifyRecoveryCode(env.deps, { userId: user.id, code: codes[1]!, context: {} })).toEqual({
      ok: false,
      error: 'invalid_code',
    });
  });
});
