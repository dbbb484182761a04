import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { removeFactor, secondFactorChoices } from '../../src/service/factors/manage-mfa.js';
import { isMfaEnabled } from '../../src/service/factors/mfa-state.js';
import {
  passkeySignInOptions,
  securityKeyAuthenticationOptions,
  signInWithPasskey,
  verifySecurityKey,
} from '../../src/service/factors/webauthn/authenticate-key.js';
import {
  registerSecurityKey,
  securityKeyRegistrationOptions,
} from '../../src/service/factors/webauthn/register-key.js';
import { backendAuthority } from '../../src/service/sign-in/change-authority.js';
import { verifyStepUp } from '../../src/service/sign-in/step-up.js';
import { testEngines } from '../helpers/engines.js';
import { configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { enableSecurityKeys, registerSoftKey, TEST_ORIGIN, TEST_RP_ID } from '../helpers/security-keys.js';
import { createTestEnvironment, createTestUser, type TestEnvironment } from '../helpers/service-deps.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';

const actions = async (env: TestEnvironment, userId: string | undefined, limit = 5) =>
  (await env.deps.store.listAuditEvents({ userId, limit })).map((event) => event.action);

describe.each(testEngines())('security keys (service) on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine);
    enableSecurityKeys(env);
    await configureRecoveryCodes(env);
  });
  afterEach(async () => env.close());

  const signInOptions = async (userId: string, binding = 'session-token') => {
    const options = await securityKeyAuthenticationOptions(env.deps, {
      userId,
      binding,
      ceremony: 'second_factor',
    });
    if (!options.ok) throw new Error(options.error);
    return options.value;
  };

  test('the first key turns two-factor on and gives the recovery codes once; a second key gives none', async () => {
    const user = await createTestUser(env);
    const first = await registerSoftKey(env, user.id);
    expect(first.confirmation.mfaEnabled).toBe(true);
    expect(first.confirmation.recoveryCodes?.codes).toHaveLength(10);
    expect(await isMfaEnabled(env.deps.store, user.id)).toBe(true);
    const second = await registerSoftKey(env, user.id, { name: 'Phone' });
    expect(second.confirmation).toMatchObject({ mfaEnabled: false, recoveryCodes: null });
    const keys = await env.deps.store.listWebauthnCredentials(user.id);
    expect(keys.map((key) => [key.name, key.counter, key.transports]).sort()).toEqual([
      ['Phone', 0, ['usb']],
      ['YubiKey 5C', 0, ['usb']],
    ]);
    expect(await secondFactorChoices(env.deps, { userId: user.id })).toMatchObject({ securityKey: true });
  });

  test('registration excludes the keys already registered, and the same key is refused a second time', async () => {
    const user = await createTestUser(env);
    const { key } = await registerSoftKey(env, user.id);
    const options = await securityKeyRegistrationOptions(env.deps, { userId: user.id, binding: 'b' });
    expect(options.ok && options.value.excludeCredentials).toEqual([
      { id: key.credentialId, type: 'public-key', transports: ['usb'] },
    ]);
    expect(options.ok && options.value.attestation).toBe('none');
    expect(options.ok && options.value.authenticatorSelection).toMatchObject({
      residentKey: 'preferred',
      userVerification: 'preferred',
    });
    const again = await registerSecurityKey(env.deps, {
      userId: user.id,
      binding: 'b',
      name: 'Again',
      response: key.register(options.ok ? options.value : { challenge: '' }),
      context: {},
    });
    expect(again).toEqual({ ok: false, error: 'security_key_already_registered' });
  });

  test('req 62: a key signs in as the second factor once per challenge; the counter is stored', async () => {
    const user = await createTestUser(env);
    const { key } = await registerSoftKey(env, user.id);
    const options = await signInOptions(user.id);
    const response = key.assert(options);
    const verify = () =>
      verifySecurityKey(env.deps, { userId: user.id, binding: 'session-token', response, context: {} });
    expect((await verify()).ok).toBe(true);
    expect((await env.deps.store.listWebauthnCredentials(user.id))[0]).toMatchObject({
      counter: 1,
      lastUsedAt: env.clock.now(),
    });
    expect(await verify()).toEqual({ ok: false, error: 'webauthn_challenge_invalid' });
  });

  test('req 62: a challenge is bound to its session and ceremony and dies after 5 minutes', async () => {
    const user = await createTestUser(env);
    const { key } = await registerSoftKey(env, user.id);
    const other = await verifySecurityKey(env.deps, {
      userId: user.id,
      binding: 'another-session',
      response: key.assert(await signInOptions(user.id)),
      context: {},
    });
    expect(other).toEqual({ ok: false, error: 'webauthn_challenge_invalid' });
    const stepUpChallenge = await securityKeyAuthenticationOptions(env.deps, {
      userId: user.id,
      binding: 'session-token',
      ceremony: 'step_up',
    });
    const asSecondFactor = await verifySecurityKey(env.deps, {
      userId: user.id,
      binding: 'session-token',
      response: key.assert(stepUpChallenge.ok ? stepUpChallenge.value : { challenge: '' }),
      context: {},
    });
    expect(asSecondFactor).toEqual({ ok: false, error: 'webauthn_challenge_invalid' });
    const late = key.assert(await signInOptions(user.id));
    env.clock.advance(5 * 60_000);
    expect(
      await verifySecurityKey(env.deps, {
        userId: user.id,
        binding: 'session-token',
        response: late,
        context: {},
      }),
    ).toEqual({ ok: false, error: 'webauthn_challenge_invalid' });
  });

  test('req 62: a counter rolled back is refused and audited as a possible cloned key', async () => {
    const user = await createTestUser(env);
    const { key } = await registerSoftKey(env, user.id);
    for (let i = 0; i < 3; i++) {
      const response = key.assert(await signInOptions(user.id));
      expect(
        (
          await verifySecurityKey(env.deps, {
            userId: user.id,
            binding: 'session-token',
            response,
            context: {},
          })
        ).ok,
      ).toBe(true);
    }
    const rolledBack = key.assert(await signInOptions(user.id), { counter: 2 });
    expect(
      await verifySecurityKey(env.deps, {
        userId: user.id,
        binding: 'session-token',
        response: rolledBack,
        context: {},
      }),
    ).toEqual({ ok: false, error: 'security_key_counter_regressed' });
    const [event] = await env.deps.store.listAuditEvents({ action: 'webauthn_counter_regressed', limit: 1 });
    expect(event).toMatchObject({
      userId: user.id,
      outcome: 'failure',
      details: { storedCounter: 3, reportedCounter: 2, possibleClone: true, ceremony: 'second_factor' },
    });
    expect((await env.deps.store.listWebauthnCredentials(user.id))[0]?.counter).toBe(3);
  });

  test('req 62: a response from another origin, or for another RP ID, is refused', async () => {
    const user = await createTestUser(env);
    const { key } = await registerSoftKey(env, user.id);
    const wrongOrigin = key.assert(await signInOptions(user.id), { origin: 'https://evil.example' });
    expect(
      await verifySecurityKey(env.deps, {
        userId: user.id,
        binding: 'session-token',
        response: wrongOrigin,
        context: {},
      }),
    ).toEqual({ ok: false, error: 'security_key_failed' });
    const [event] = await env.deps.store.listAuditEvents({ action: 'webauthn_failed', limit: 1 });
    expect(String(event?.details.reason)).toContain('origin');
    const elsewhere = new SoftAuthenticator({ origin: TEST_ORIGIN, rpId: 'evil.example' });
    const options = await securityKeyRegistrationOptions(env.deps, { userId: user.id, binding: 'b' });
    const registered = await registerSecurityKey(env.deps, {
      userId: user.id,
      binding: 'b',
      name: 'Elsewhere',
      response: elsewhere.register(options.ok ? options.value : { challenge: '' }),
      context: {},
    });
    expect(registered).toEqual({ ok: false, error: 'security_key_failed' });
  });

  test("a removed key, or another user's key, is refused", async () => {
    const user = await createTestUser(env);
    const other = await createTestUser(env);
    const { key } = await registerSoftKey(env, user.id);
    const { key: othersKey } = await registerSoftKey(env, other.id);
    const options = await signInOptions(user.id);
    expect(
      await verifySecurityKey(env.deps, {
        userId: user.id,
        binding: 'session-token',
        response: othersKey.assert(options),
        context: {},
      }),
    ).toEqual({ ok: false, error: 'security_key_not_recognized' });
    await enableTotp(env, user.id);
    const [factor] = (await env.deps.store.listFactors(user.id)).filter((f) => f.kind === 'webauthn');
    expect(
      (
        await removeFactor(env.deps, {
          authority: backendAuthority({ kind: 'library', actorId: 'test' }),
          userId: user.id,
          factorId: factor!.id,
          context: {},
        })
      ).ok,
    ).toBe(true);
    expect(
      await securityKeyAuthenticationOptions(env.deps, {
        userId: user.id,
        binding: 'x',
        ceremony: 'second_factor',
      }),
    ).toEqual({ ok: false, error: 'factor_not_found' });
    // A response prepared before the removal is refused after it.
    const stale = key.assert(options);
    expect(
      await verifySecurityKey(env.deps, {
        userId: user.id,
        binding: 'session-token',
        response: stale,
        context: {},
      }),
    ).toEqual({ ok: false, error: 'webauthn_challenge_invalid' });
  });

  test('passkey sign-in needs user verification and names its account; audited', async () => {
    const user = await createTestUser(env);
    const { key } = await registerSoftKey(env, user.id);
    const options = await passkeySignInOptions(env.deps, { binding: 'ceremony-1' });
    if (!options.ok) throw new Error(options.error);
    expect(options.value).toMatchObject({ userVerification: 'required', rpId: TEST_RP_ID });
    const signedIn = await signInWithPasskey(env.deps, {
      binding: 'ceremony-1',
      response: key.assert(options.value, { userHandle: Buffer.from(user.id).toString('base64url') }),
      context: {},
    });
    expect(signedIn).toEqual({ ok: true, value: { userId: user.id } });
    expect(await actions(env, user.id, 1)).toEqual(['webauthn_verified']);

    const { key: unverified } = await registerSoftKey(env, user.id, { userVerified: false, name: 'No PIN' });
    const again = await passkeySignInOptions(env.deps, { binding: 'ceremony-2' });
    const refused = await signInWithPasskey(env.deps, {
      binding: 'ceremony-2',
      response: unverified.assert(again.ok ? again.value : { challenge: '' }),
      context: {},
    });
    expect(refused).toEqual({ ok: false, error: 'security_key_failed' });

    enableSecurityKeys(env, { passkeySignIn: false });
    expect(await passkeySignInOptions(env.deps, { binding: 'c' })).toEqual({
      ok: false,
      error: 'passkey_sign_in_disabled',
    });
  });

  test('step-up accepts a key (method webauthn), only for a step-up challenge of this session', async () => {
    const user = await createTestUser(env);
    const { key } = await registerSoftKey(env, user.id);
    const options = await securityKeyAuthenticationOptions(env.deps, {
      userId: user.id,
      binding: 'session-token',
      ceremony: 'step_up',
    });
    if (!options.ok) throw new Error(options.error);
    const stepped = await verifyStepUp(env.deps, {
      userId: user.id,
      securityKey: { binding: 'session-token', response: key.assert(options.value) },
      context: {},
    });
    expect(stepped).toMatchObject({ ok: true, value: { method: 'webauthn', userId: user.id } });
    const replay = await verifyStepUp(env.deps, {
      userId: user.id,
      securityKey: { binding: 'session-token', response: key.assert(options.value) },
      context: {},
    });
    expect(replay).toEqual({ ok: false, error: 'step_up_failed' });
    expect(await actions(env, user.id, 1)).toEqual(['step_up_failed']);
  });

  test('without WebAuthn settings nothing is offered', async () => {
    const user = await createTestUser(env);
    env.deps.options.webauthn = undefined;
    expect(await securityKeyRegistrationOptions(env.deps, { userId: user.id, binding: 'b' })).toEqual({
      ok: false,
      error: 'security_keys_unavailable',
    });
  });
});
