import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DEFAULT_ACCOUNT_THROTTLE } from '../../src/core/throttle.js';
import { verifyTotp } from '../../src/service/factors/verify-totp.js';
import {
  passkeySignInOptions,
  securityKeyAuthenticationOptions,
  signInWithPasskey,
  verifySecurityKey,
} from '../../src/service/factors/webauthn/authenticate-key.js';
import { verifyStepUp } from '../../src/service/sign-in/step-up.js';
import { isSecondFactorLocked } from '../../src/service/throttle/throttle-counters.js';
import { testEngines } from '../helpers/engines.js';
import { configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { enableSecurityKeys, registerSoftKey, TEST_ORIGIN, TEST_RP_ID } from '../helpers/security-keys.js';
import { createTestEnvironment, createTestUser, type TestEnvironment } from '../helpers/service-deps.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';

const { freeFailures, lockAfter } = DEFAULT_ACCOUNT_THROTTLE;

/** A different client address per attempt: only the account's counter can add these up (STANDARDS req 46). */
const fromAddress = (i: number) => ({ ip: `203.0.113.${i % 250}`, userAgent: 'attacker' });

/**
 * Issue 23: a security key is throttled like every other second factor. Wrong assertions are charged to the
 * one per-account counter the TOTP, email and recovery codes share (docs/security.md: back-off after 5
 * failures, lock at 20), and a locked account refuses even the right key, as a second factor, at step-up
 * and as a passkey.
 */
describe.each(testEngines())('security keys under the account throttle on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine, { notifications: true });
    enableSecurityKeys(env);
    await configureRecoveryCodes(env);
  });
  afterEach(async () => env.close());

  /** A user with a key and an authenticator app. */
  async function victim() {
    const user = await createTestUser(env);
    const { key } = await registerSoftKey(env, user.id);
    const totp = await enableTotp(env, user.id);
    return { ...user, key, secret: totp.secret };
  }

  const challenge = async (userId: string, ceremony: 'second_factor' | 'step_up' = 'second_factor') => {
    const options = await securityKeyAuthenticationOptions(env.deps, {
      userId,
      binding: 'session',
      ceremony,
    });
    if (!options.ok) throw new Error(options.error);
    return options.value;
  };

  /** The user's key id over a signature made by another private key: what a forged key would send. */
  const impostor = new SoftAuthenticator({ origin: TEST_ORIGIN, rpId: TEST_RP_ID });
  async function wrongKey(user: { id: string; key: SoftAuthenticator }, i: number) {
    const forged = impostor.assert(await challenge(user.id));
    const response = { ...forged, id: user.key.credentialId, rawId: user.key.credentialId };
    return verifySecurityKey(env.deps, {
      userId: user.id,
      binding: 'session',
      response,
      context: fromAddress(i),
    });
  }

  async function rightKey(user: { id: string; key: SoftAuthenticator }, i: number) {
    const response = user.key.assert(await challenge(user.id));
    return verifySecurityKey(env.deps, {
      userId: user.id,
      binding: 'session',
      response,
      context: fromAddress(i),
    });
  }

  const accountFailures = async (userId: string) =>
    (await env.deps.store.findAttempts(`account:${userId}`))?.failures ?? 0;

  /** Waits out the current back-off on the test clock. */
  async function waitOutBlock(userId: string) {
    const state = await env.deps.store.findAttempts(`account:${userId}`);
    if (state?.blockedUntil) env.clock.nowMs = Math.max(env.clock.nowMs, state.blockedUntil);
  }

  test('req 46: wrong key assertions and wrong TOTP codes add up on the one account counter', async () => {
    const user = await victim();
    expect(await wrongKey(user, 1)).toEqual({ ok: false, error: 'security_key_failed' });
    expect(
      await verifyTotp(env.deps, { userId: user.id, code: '000000', context: fromAddress(2) }),
    ).toMatchObject({ ok: false, error: 'invalid_code' });
    expect(await wrongKey(user, 3)).toEqual({ ok: false, error: 'security_key_failed' });
    expect(await accountFailures(user.id)).toBe(3);
    for (let i = 4; i <= freeFailures; i += 1) {
      expect(await wrongKey(user, i)).toMatchObject({ ok: false, error: 'security_key_failed' });
    }
    expect(await accountFailures(user.id)).toBe(freeFailures);
    // The free failures are spent: the right key now waits, from yet another address, and is not evaluated.
    expect(await rightKey(user, 99)).toEqual({
      ok: false,
      error: 'too_many_attempts',
      retryAfterSeconds: 30,
    });
    expect((await env.deps.store.listWebauthnCredentials(user.id))[0]).toMatchObject({
      counter: 0,
      lastUsedAt: null,
    });
    // After the back-off the right key signs in, and a completed second step starts the count over.
    await waitOutBlock(user.id);
    expect(await rightKey(user, 100)).toMatchObject({ ok: true });
    expect(await accountFailures(user.id)).toBe(0);
  });

  test('req 48 and 49: 20 wrong key assertions lock second factors; the right key is then refused everywhere', async () => {
    const user = await victim();
    for (let i = 0; i < (lockAfter ?? 0); i += 1) {
      await waitOutBlock(user.id);
      expect(await wrongKey(user, i)).toEqual({ ok: false, error: 'security_key_failed' });
    }
    expect(await isSecondFactorLocked(env.deps, user.id)).toBe(true);
    const evaluated = await env.deps.store.listAuditEvents({
      userId: user.id,
      action: 'webauthn_failed',
      limit: 100,
    });
    expect(evaluated).toHaveLength(lockAfter as number);
    expect(
      await env.deps.store.listAuditEvents({ userId: user.id, action: 'mfa_locked', limit: 5 }),
    ).toHaveLength(1);
    expect(env.smtp.messages.filter((m) => m.subject.includes('is locked'))).toHaveLength(1);

    // Waiting does not help: a year later the right key is refused as the second factor, at step-up and
    // as a passkey, and never evaluated (its counter and "last used" stay as they were).
    env.clock.advance(365 * 24 * 3600_000);
    expect(await rightKey(user, 50)).toEqual({ ok: false, error: 'mfa_locked' });
    const stepUp = await verifyStepUp(env.deps, {
      userId: user.id,
      securityKey: { binding: 'session', response: user.key.assert(await challenge(user.id, 'step_up')) },
      context: fromAddress(51),
    });
    expect(stepUp).toEqual({ ok: false, error: 'mfa_locked' });
    const passkeyOptions = await passkeySignInOptions(env.deps, { binding: 'ceremony' });
    if (!passkeyOptions.ok) throw new Error(passkeyOptions.error);
    const passkey = await signInWithPasskey(env.deps, {
      binding: 'ceremony',
      response: user.key.assert(passkeyOptions.value, {
        userHandle: Buffer.from(user.id).toString('base64url'),
      }),
      context: fromAddress(52),
    });
    expect(passkey).toEqual({ ok: false, error: 'mfa_locked' });
    expect((await env.deps.store.listWebauthnCredentials(user.id))[0]).toMatchObject({
      counter: 0,
      lastUsedAt: null,
    });
    expect(
      await env.deps.store.listAuditEvents({ userId: user.id, action: 'webauthn_verified', limit: 5 }),
    ).toEqual([]);
  });

  test('wrong passkey assertions are charged to the account the key names', async () => {
    const user = await victim();
    for (let i = 0; i < freeFailures; i += 1) {
      const options = await passkeySignInOptions(env.deps, { binding: `ceremony-${i}` });
      if (!options.ok) throw new Error(options.error);
      const forged = impostor.assert(options.value);
      const refused = await signInWithPasskey(env.deps, {
        binding: `ceremony-${i}`,
        response: { ...forged, id: user.key.credentialId, rawId: user.key.credentialId },
        context: fromAddress(i),
      });
      expect(refused).toEqual({ ok: false, error: 'security_key_failed' });
    }
    expect(await accountFailures(user.id)).toBe(freeFailures);
    expect(await rightKey(user, 60)).toMatchObject({ ok: false, error: 'too_many_attempts' });
  });
});
