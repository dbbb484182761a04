import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { confirmTotp } from '../../src/service/factors/confirm-totp.js';
import { enrollTotp } from '../../src/service/factors/enroll-totp.js';
import { isMfaEnabled } from '../../src/service/factors/mfa-state.js';
import { verifyTotp } from '../../src/service/factors/verify-totp.js';
import { testEngines } from '../helpers/engines.js';
import { authenticatorCode, configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { createTestEnvironment, createTestUser, type TestEnvironment } from '../helpers/service-deps.js';

describe.each(testEngines())('TOTP use cases on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine);
  });
  afterEach(async () => env.close());

  test('req 27: an unconfirmed enrollment is not a second factor; a wrong code does not confirm it', async () => {
    const user = await createTestUser(env);
    const enrollment = await enrollTotp(env.deps, { userId: user.id, context: {} });
    if (!enrollment.ok) throw new Error(enrollment.error);
    expect(enrollment.value.uri).toMatch(/^otpauth:\/\/totp\/SpareKey%20Test:.*secret=/);
    const code = authenticatorCode(enrollment.value.secret, env.clock.nowMs);
    expect(await verifyTotp(env.deps, { userId: user.id, code, context: {} })).toEqual({
      ok: false,
      error: 'mfa_not_enabled',
    });
    const wrong = code === '000000' ? '000001' : '000000';
    const refused = await confirmTotp(env.deps, {
      userId: user.id,
      factorId: enrollment.value.factorId,
      code: wrong,
      context: {},
    });
    expect(refused).toEqual({ ok: false, error: 'invalid_code' });
    expect(await isMfaEnabled(env.deps.store, user.id)).toBe(false);
  });

  test('confirming turns two-factor on once; a second confirmation of the same enrollment is refused', async () => {
    await configureRecoveryCodes(env);
    const user = await createTestUser(env);
    const enrollment = await enrollTotp(env.deps, { userId: user.id, context: {} });
    if (!enrollment.ok) throw new Error(enrollment.error);
    const code = authenticatorCode(enrollment.value.secret, env.clock.nowMs);
    const input = { userId: user.id, factorId: enrollment.value.factorId, code, context: {} };
    const confirmed = await confirmTotp(env.deps, input);
    expect(confirmed).toMatchObject({ ok: true, value: { mfaEnabled: true } });
    expect(await confirmTotp(env.deps, input)).toEqual({ ok: false, error: 'enrollment_not_found' });
    const actions = (await env.deps.store.listAuditEvents({ userId: user.id, limit: 10 })).map(
      (e) => e.action,
    );
    expect(actions.slice(0, 3)).toEqual(['recovery_codes_generated', 'mfa_enabled', 'factor_added']);
  });

  test('req 23 (RFC 6238 5.2): a code is accepted once; the previous step is refused after a later one', async () => {
    const user = await createTestUser(env);
    const { secret: secretBase32 } = await enableTotp(env, user.id);
    const now = env.clock.nowMs;
    const current = authenticatorCode(secretBase32, now);
    const previous = authenticatorCode(secretBase32, now - 30_000);
    expect(await verifyTotp(env.deps, { userId: user.id, code: current, context: {} })).toMatchObject({
      ok: true,
    });
    expect(await verifyTotp(env.deps, { userId: user.id, code: current, context: {} })).toEqual({
      ok: false,
      error: 'totp_replayed',
    });
    if (previous !== current) {
      expect(await verifyTotp(env.deps, { userId: user.id, code: previous, context: {} })).toEqual({
        ok: false,
        error: 'totp_replayed',
      });
    }
    const [event] = await env.deps.store.listAuditEvents({ userId: user.id, limit: 1 });
    expect(event).toMatchObject({ action: 'totp_replay', outcome: 'failure' });
  });

  test('req 22: one step of drift each way is accepted, two are not', async () => {
    const user = await createTestUser(env);
    const { secret: secretBase32 } = await enableTotp(env, user.id);
    env.clock.advance(10 * 60_000);
    const now = env.clock.nowMs;
    const at = (steps: number) => authenticatorCode(secretBase32, now + steps * 30_000);
    expect(await verifyTotp(env.deps, { userId: user.id, code: at(2), context: {} })).toMatchObject({
      ok: false,
    });
    expect(await verifyTotp(env.deps, { userId: user.id, code: at(-2), context: {} })).toMatchObject({
      ok: false,
    });
    expect(await verifyTotp(env.deps, { userId: user.id, code: at(-1), context: {} })).toMatchObject({
      ok: true,
    });
    expect(await verifyTotp(env.deps, { userId: user.id, code: at(1), context: {} })).toMatchObject({
      ok: true,
    });
  });

  test('req 25: a tampered seed fails closed: the attempt is refused and audited, never accepted', async () => {
    const user = await createTestUser(env);
    const { secret: secretBase32, factorId } = await enableTotp(env, user.id);
    const factor = await env.deps.store.findFactor(user.id, factorId);
    await env.deps.store.deleteFactor(user.id, factorId);
    const sealed = factor!.secretCiphertext!;
    const flipped = `${sealed.slice(0, -2)}${sealed.at(-2) === 'A' ? 'B' : 'A'}${sealed.at(-1)}`;
    await env.deps.store.createFactor({ ...factor!, secretCiphertext: flipped });
    await env.deps.store.confirmFactor(user.id, factorId, env.clock.now());
    const code = authenticatorCode(secretBase32, env.clock.nowMs);
    expect(await verifyTotp(env.deps, { userId: user.id, code, context: {} })).toEqual({
      ok: false,
      error: 'factor_unreadable',
    });
    const [event] = await env.deps.store.listAuditEvents({ userId: user.id, limit: 1 });
    expect(event).toMatchObject({ action: 'totp_failed', details: { reason: 'seed_unreadable' } });
  });
});
