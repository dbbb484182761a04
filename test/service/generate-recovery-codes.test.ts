import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { generateRecoveryCodes } from '../../src/service/recovery-codes/generate-recovery-codes.js';
import { getRecoveryCodeStatus } from '../../src/service/recovery-codes/recovery-code-status.js';
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

describe.each(testEngines())('generateRecoveryCodes on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine, { throttle: UNTHROTTLED });
  });
  afterEach(async () => env.close());

  test('is refused while the master switch is off (the default), and the refusal is audited', async () => {
    const user = await createTestUser(env);
    await enableTotp(env, user.id);
    const result = await generateRecoveryCodes(env.deps, {
      authority: backendAuthority({ kind: 'library', actorId: 'test' }),
      userId: user.id,
      context: { ip: '203.0.113.9' },
    });
    expect(result).toEqual({ ok: false, error: 'feature_disabled' });
    const [event] = await env.deps.store.listAuditEvents({
      userId: user.id,
      action: 'recovery_codes_generated',
      limit: 5,
    });
    expect(event).toMatchObject({
      outcome: 'failure',
      ip: '203.0.113.9',
      details: { reason: 'feature_disabled' },
    });
  });

  test('is refused for a role the operator has not allowed', async () => {
    await configureRecoveryCodes(env, { allowedRoles: ['administrator'] });
    const user = await createTestUser(env, { roles: ['subscriber'] });
    await enableTotp(env, user.id);
    expect(
      await generateRecoveryCodes(env.deps, {
        authority: backendAuthority({ kind: 'library', actorId: 'test' }),
        userId: user.id,
        context: {},
      }),
    ).toEqual({
      ok: false,
      error: 'role_not_allowed',
    });
  });

  test('is refused until two-factor authentication is on', async () => {
    await configureRecoveryCodes(env);
    const user = await createTestUser(env);
    expect(
      await generateRecoveryCodes(env.deps, {
        authority: backendAuthority({ kind: 'library', actorId: 'test' }),
        userId: user.id,
        context: {},
      }),
    ).toEqual({
      ok: false,
      error: 'mfa_not_enabled',
    });
  });

  test('confirming the first factor returns the first set once; status shows counts, never codes', async () => {
    await configureRecoveryCodes(env);
    const user = await createTestUser(env);
    const { recoveryCodes } = await enableTotp(env, user.id);
    expect(recoveryCodes?.codes).toHaveLength(10);
    for (const code of recoveryCodes?.codes ?? [])
      expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    const status = await getRecoveryCodeStatus(env.deps, { userId: user.id });
    expect(status).toMatchObject({ hasCodes: true, total: 10, remaining: 10, low: false });
    expect(JSON.stringify(status)).not.toContain(recoveryCodes!.codes[0]!.slice(2, 7));
  });

  test('req 12: regenerating kills every old code at once and the new set works', async () => {
    await configureRecoveryCodes(env);
    const user = await createTestUser(env);
    const first = (await enableTotp(env, user.id)).recoveryCodes!;
    const second = await generateRecoveryCodes(env.deps, {
      authority: backendAuthority({ kind: 'library', actorId: 'test' }),
      userId: user.id,
      context: {},
    });
    if (!second.ok) throw new Error(second.error);
    expect(second.value.setId).not.toBe(first.setId);
    for (const code of first.codes) {
      const result = await verifyRecoveryCode(env.deps, { userId: user.id, code, context: {} });
      expect(result).toEqual({ ok: false, error: 'invalid_code' });
    }
    const fresh = await verifyRecoveryCode(env.deps, {
      userId: user.id,
      code: second.value.codes[3]!,
      context: {},
    });
    expect(fresh).toMatchObject({ ok: true, value: { policy: 'continue', remaining: 9 } });
    const [event] = await env.deps.store.listAuditEvents({
      userId: user.id,
      action: 'recovery_codes_regenerated',
      limit: 1,
    });
    expect(event).toMatchObject({ outcome: 'success', details: { setId: second.value.setId, count: 10 } });
  });

  test('req 17: the low-on-codes flag flips at the threshold (default 3) and not at 0', async () => {
    await configureRecoveryCodes(env, { codesPerSet: 5 });
    const user = await createTestUser(env);
    const { codes } = (await enableTotp(env, user.id)).recoveryCodes!;
    const lows: boolean[] = [];
    for (const code of codes) {
      await verifyRecoveryCode(env.deps, { userId: user.id, code, context: {} });
      const status = await getRecoveryCodeStatus(env.deps, { userId: user.id });
      lows.push(status.hasCodes && status.low);
    }
    // remaining 4, 3, 2, 1, 0
    expect(lows).toEqual([false, true, true, true, false]);
  });
});
