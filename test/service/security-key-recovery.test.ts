import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { resetUserMfa } from '../../src/service/admin/reset-mfa.js';
import { isMfaEnabled } from '../../src/service/factors/mfa-state.js';
import { securityKeyAuthenticationOptions } from '../../src/service/factors/webauthn/authenticate-key.js';
import { verifyRecoveryCode } from '../../src/service/recovery-codes/verify-recovery-code.js';
import { testEngines } from '../helpers/engines.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { enableSecurityKeys, registerSoftKey } from '../helpers/security-keys.js';
import { createTestEnvironment, createTestUser, type TestEnvironment } from '../helpers/service-deps.js';

/**
 * The recovery path of issue "security keys": a person whose only factor is a security key loses it and
 * signs in with one of the recovery codes the key's registration gave them, under each post-recovery policy.
 */
describe.each(testEngines())('a lost security key and a recovery code on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine);
    enableSecurityKeys(env);
  });
  afterEach(async () => env.close());

  const userWithOnlyAKey = async () => {
    const user = await createTestUser(env);
    const { confirmation } = await registerSoftKey(env, user.id);
    const codes = confirmation.recoveryCodes?.codes ?? [];
    expect(codes).toHaveLength(10);
    expect((await env.deps.store.listFactors(user.id)).map((factor) => factor.kind)).toEqual(['webauthn']);
    return { user, codes };
  };

  test('continue: the code signs in and the key stays registered (the person may find it again)', async () => {
    await configureRecoveryCodes(env, { policy: 'continue' });
    const { user, codes } = await userWithOnlyAKey();
    const used = await verifyRecoveryCode(env.deps, { userId: user.id, code: codes[0]!, context: {} });
    expect(used).toMatchObject({ ok: true, value: { policy: 'continue', remaining: 9 } });
    expect(await env.deps.store.listWebauthnCredentials(user.id)).toHaveLength(1);
  });

  test('disable_mfa: the code signs in and removes the key with the codes; two-factor is off', async () => {
    await configureRecoveryCodes(env, { policy: 'disable_mfa' });
    const { user, codes } = await userWithOnlyAKey();
    const used = await verifyRecoveryCode(env.deps, { userId: user.id, code: codes[3]!, context: {} });
    expect(used).toEqual({ ok: true, value: { policy: 'disable_mfa' } });
    expect(await env.deps.store.listWebauthnCredentials(user.id)).toEqual([]);
    expect(await isMfaEnabled(env.deps.store, user.id)).toBe(false);
    expect(
      await securityKeyAuthenticationOptions(env.deps, {
        userId: user.id,
        binding: 'b',
        ceremony: 'second_factor',
      }),
    ).toEqual({ ok: false, error: 'factor_not_found' });
    const [disabled] = await env.deps.store.listAuditEvents({ action: 'mfa_disabled', limit: 1 });
    expect(disabled?.details).toMatchObject({ reason: 'recovery_code', factorsRemoved: 1 });
  });

  test('rotate: the code signs in, a new set is shown once, the key stays', async () => {
    await configureRecoveryCodes(env, { policy: 'rotate' });
    const { user, codes } = await userWithOnlyAKey();
    const used = await verifyRecoveryCode(env.deps, { userId: user.id, code: codes[5]!, context: {} });
    if (!used.ok || used.value.policy !== 'rotate') throw new Error('expected rotate');
    expect(used.value.replacement.codes).toHaveLength(10);
    expect(used.value.replacement.codes).not.toContain(codes[6]);
    expect(
      await verifyRecoveryCode(env.deps, { userId: user.id, code: codes[6]!, context: {} }),
    ).toMatchObject({
      ok: false,
    });
    expect(await env.deps.store.listWebauthnCredentials(user.id)).toHaveLength(1);
  });

  test("an administrator's reset removes the keys too", async () => {
    await configureRecoveryCodes(env);
    const { user } = await userWithOnlyAKey();
    const reset = await resetUserMfa(env.deps, {
      userId: user.id,
      reason: 'lost key, identity checked',
      context: { actorId: 'admin-1' },
    });
    expect(reset).toMatchObject({ ok: true, value: { factorsRemoved: 1 } });
    expect(await env.deps.store.listWebauthnCredentials(user.id)).toEqual([]);
  });
});
