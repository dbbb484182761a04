import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DEFAULT_ACCOUNT_THROTTLE } from '../../src/core/throttle.js';
import { createUser } from '../../src/service/accounts/accounts.js';
import { confirmEmailFactor, startEmailFactor } from '../../src/service/factors/email-factor.js';
import { isMfaEnabled } from '../../src/service/factors/mfa-state.js';
import { passkeySignInOptions } from '../../src/service/factors/webauthn/authenticate-key.js';
import { resolveSession } from '../../src/service/sessions/sessions.js';
import {
  beginPasskeySignIn,
  beginSignIn,
  type SignInOutcome,
} from '../../src/service/sign-in/begin-sign-in.js';
import {
  completeSecondFactor,
  type SecondFactorProof,
  secondFactorKeyOptions,
  sendSignInEmailCode,
} from '../../src/service/sign-in/complete-second-factor.js';
import { accountThrottleKey, counters } from '../../src/service/throttle/throttle-counters.js';
import { testEngines } from '../helpers/engines.js';
import { authenticatorCode, configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { enableSecurityKeys, registerSoftKey } from '../helpers/security-keys.js';
import { createTestEnvironment, type TestEnvironment } from '../helpers/service-deps.js';

const PASSWORD = 'plum-harbor-quietly-77';
const context = { ip: '198.51.100.7', userAgent: 'Firefox/120 (X11; Linux)' };

/**
 * Issue 20, drift 5 and 6: the sign-in flows every edge calls. Each outcome of beginning a sign-in, and
 * completing the second step with every method, on both engines; the edges' HTTP tests
 * (test/web/sign-in-flow-signals.http.test.ts) show the same outcomes through the pages and the JSON API.
 */
describe.each(testEngines())('the sign-in flow on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine, { notifications: true });
    await configureRecoveryCodes(env);
  });
  afterEach(async () => env.close());

  let counter = 0;
  async function account(options: { roles?: string[]; totp?: boolean } = {}) {
    counter += 1;
    const email = `flow-${counter}@example.test`;
    const created = await createUser(env.deps, {
      email,
      password: PASSWORD,
      roles: options.roles,
      context: {},
    });
    if (!created.ok) throw new Error(created.error);
    const userId = created.value.userId;
    const totp = options.totp ? await enableTotp(env, userId) : undefined;
    return { email, userId, secret: totp?.secret ?? '', codes: totp?.recoveryCodes?.codes ?? [] };
  }

  const begin = (email: string, extra: { password?: string; rememberedBrowser?: string } = {}) =>
    beginSignIn(env.deps, { email, password: extra.password ?? PASSWORD, ...extra, context });

  async function outcomeOf(
    result: { ok: true; value: SignInOutcome } | { ok: false; error: string },
  ): Promise<SignInOutcome> {
    if (!result.ok) throw new Error(`refused: ${result.error}`);
    return result.value;
  }

  const stageOf = async (token: string) => (await resolveSession(env.deps, token))?.record;
  const lastSignIn = async (userId: string) =>
    (await env.deps.store.listAuditEvents({ userId, action: 'sign_in', limit: 1 }))[0]?.details;

  test('no second factor: signed in at once, audited with method password', async () => {
    const { email, userId } = await account();
    const outcome = await outcomeOf(await begin(email));
    expect(outcome).toMatchObject({ kind: 'signed_in', userId, method: 'password' });
    expect(await stageOf(outcome.token)).toMatchObject({ stage: 'signed_in', signInMethod: 'password' });
    expect(await lastSignIn(userId)).toMatchObject({ method: 'password' });
  });

  test('refused: a wrong password starts no session and is audited', async () => {
    const { email, userId } = await account();
    expect(await begin(email, { password: 'not-the-password-1' })).toEqual({
      ok: false,
      error: 'wrong_credentials',
    });
    const failures = await env.deps.store.listAuditEvents({ userId, action: 'sign_in_failed', limit: 5 });
    expect(failures).toHaveLength(1);
    expect(await lastSignIn(userId)).toBeUndefined();
  });

  test('a new sign-in ends the session the caller already had (session fixation)', async () => {
    const { email } = await account();
    const first = await outcomeOf(await begin(email));
    const second = await outcomeOf(
      await beginSignIn(env.deps, { email, password: PASSWORD, previousToken: first.token, context }),
    );
    expect(await stageOf(first.token)).toBeUndefined();
    expect(await stageOf(second.token)).toMatchObject({ stage: 'signed_in' });
  });

  test('second factor needed: a half-signed-in session and the methods this account can use', async () => {
    const { email, userId } = await account({ totp: true });
    const outcome = await outcomeOf(await begin(email));
    expect(outcome).toMatchObject({
      kind: 'second_factor',
      userId,
      methods: { totp: true, email: false, securityKey: false, recoveryCode: true },
    });
    expect(await stageOf(outcome.token)).toMatchObject({ stage: 'second_factor' });
    expect(await lastSignIn(userId)).toBeUndefined();
  });

  test('locked: the right password owes the second step, an unlock link is emailed, a remembered browser does not skip it', async () => {
    const { email, userId, secret } = await account({ totp: true });
    const remembered = await rememberedValue(email, secret);
    const key = accountThrottleKey(userId);
    for (let i = 0; i < (DEFAULT_ACCOUNT_THROTTLE.lockAfter as number); i += 1) {
      const state = await counters(env.deps).findAttempts(key);
      if (state?.blockedUntil) env.clock.nowMs = Math.max(env.clock.nowMs, state.blockedUntil);
      await counters(env.deps).chargeAttempt(key, DEFAULT_ACCOUNT_THROTTLE, 'second_factor', env.clock.now());
    }
    const sentBefore = env.smtp.messages.length;
    const outcome = await outcomeOf(await begin(email, { rememberedBrowser: remembered }));
    expect(outcome.kind).toBe('second_factor_locked');
    expect(await stageOf(outcome.token)).toMatchObject({ stage: 'second_factor' });
    expect(env.smtp.messages.length).toBeGreaterThan(sentBefore);
    const code = authenticatorCode(secret, env.clock.nowMs);
    expect(await complete(outcome.token, { method: 'totp', code })).toMatchObject({ error: 'mfa_locked' });
  });

  /** Signs in with TOTP, ticking "remember"; returns the remembered browser's value. */
  async function rememberedValue(email: string, secret: string): Promise<string> {
    const pending = await outcomeOf(await begin(email));
    const code = authenticatorCode(secret, env.clock.nowMs);
    const done = await completeSecondFactor(env.deps, {
      sessionToken: pending.token,
      proof: { method: 'totp', code },
      remember: true,
      context,
    });
    if (!done.ok || !done.value.rememberedBrowser) throw new Error('not remembered');
    env.clock.advance(30_000);
    return done.value.rememberedBrowser.value;
  }

  test('remembered browser: the second step is skipped, audited as remembered_device; another user or a forged value is not recognized', async () => {
    const { email, userId, secret } = await account({ totp: true });
    const value = await rememberedValue(email, secret);
    const outcome = await outcomeOf(await begin(email, { rememberedBrowser: value }));
    expect(outcome).toMatchObject({ kind: 'remembered_browser', userId });
    expect(await stageOf(outcome.token)).toMatchObject({
      stage: 'signed_in',
      signInMethod: 'remembered_device',
    });
    expect(await lastSignIn(userId)).toMatchObject({ method: 'remembered_device' });

    const other = await account({ totp: true });
    expect((await outcomeOf(await begin(other.email, { rememberedBrowser: value }))).kind).toBe(
      'second_factor',
    );
    const [token] = value.split('.');
    const forged = `${token}.${'A'.repeat(43)}`;
    expect((await outcomeOf(await begin(email, { rememberedBrowser: forged }))).kind).toBe('second_factor');
  });

  test('the roles-must-set-up-2FA gate: a marked role without a factor must set it up; with one, or another role, it does not apply', async () => {
    await configureRecoveryCodes(env, { mfaRequiredRoles: ['editor'] });
    const editor = await account({ roles: ['editor'] });
    const gated = await outcomeOf(await begin(editor.email));
    expect(gated).toMatchObject({ kind: 'two_factor_setup_required', userId: editor.userId });
    // A signed-in session: the two-factor setup is reached with it.
    expect(await stageOf(gated.token)).toMatchObject({ stage: 'signed_in' });
    const subscriber = await account();
    expect((await outcomeOf(await begin(subscriber.email))).kind).toBe('signed_in');
    const set = await account({ roles: ['editor'], totp: true });
    expect((await outcomeOf(await begin(set.email))).kind).toBe('second_factor');
  });

  const complete = (sessionToken: string, proof: SecondFactorProof, remember = false) =>
    completeSecondFactor(env.deps, { sessionToken, proof, remember, context });

  test('TOTP: a wrong code is refused and the session still owes the step; the right one rotates it into a signed-in one', async () => {
    const { email, userId, secret } = await account({ totp: true });
    const pending = await outcomeOf(await begin(email));
    expect(await complete(pending.token, { method: 'totp', code: '   ' })).toEqual({
      ok: false,
      error: 'code_required',
    });
    expect(await complete(pending.token, { method: 'totp', code: '000000' })).toMatchObject({
      error: 'invalid_code',
    });
    expect(await stageOf(pending.token)).toMatchObject({ stage: 'second_factor' });
    const done = await complete(pending.token, {
      method: 'totp',
      code: authenticatorCode(secret, env.clock.nowMs),
    });
    if (!done.ok) throw new Error(done.error);
    expect(done.value).toMatchObject({ userId, twoFactorSetupRequired: false });
    expect(done.value.rememberedBrowser).toBeUndefined();
    expect(await stageOf(pending.token)).toBeUndefined();
    expect(await stageOf(done.value.token)).toMatchObject({ stage: 'signed_in', signInMethod: 'totp' });
    expect(await lastSignIn(userId)).toMatchObject({ method: 'totp' });
    // The signed-in token owes nothing: completing again is "sign in again".
    expect(await complete(done.value.token, { method: 'totp', code: '123456' })).toEqual({
      ok: false,
      error: 'sign_in_expired',
    });
  });

  test("email code: sent only when email is one of the account's factors; the emailed code completes the sign-in", async () => {
    const noEmail = await account({ totp: true });
    const pendingWithout = await outcomeOf(await begin(noEmail.email));
    expect(await sendSignInEmailCode(env.deps, { sessionToken: pendingWithout.token, context })).toEqual({
      ok: false,
      error: 'factor_not_found',
    });
    const { email, userId } = await account();
    const started = await startEmailFactor(env.deps, { userId, context: {} });
    if (!started.ok) throw new Error(started.error);
    const enrollmentCode = env.smtp.messages.at(-1)?.text.match(/\b(\d{6})\b/)?.[1] as string;
    const confirmed = await confirmEmailFactor(env.deps, {
      userId,
      factorId: started.value.factorId,
      code: enrollmentCode,
      context: {},
    });
    expect(confirmed.ok).toBe(true);
    const pending = await outcomeOf(await begin(email));
    expect(pending).toMatchObject({ kind: 'second_factor', methods: { email: true } });
    const sent = await sendSignInEmailCode(env.deps, { sessionToken: pending.token, context });
    expect(sent.ok).toBe(true);
    const code = env.smtp.messages.at(-1)?.text.match(/\b(\d{6})\b/)?.[1] as string;
    const done = await complete(pending.token, { method: 'email', code });
    expect(done.ok && (await stageOf(done.value.token))?.signInMethod).toBe('email');
  });

  test('recovery code under each policy: continue reports what is left, disable_mfa turns 2FA off (and the gate then applies), rotate returns the new set', async () => {
    const continued = await account({ totp: true });
    let pending = await outcomeOf(await begin(continued.email));
    const first = await complete(pending.token, {
      method: 'recovery_code',
      code: continued.codes[0] as string,
    });
    expect(first).toMatchObject({ ok: true, value: { recovery: { policy: 'continue', remaining: 9 } } });
    expect(first.ok && (await stageOf(first.value.token))?.signInMethod).toBe('recovery_code');

    await configureRecoveryCodes(env, { policy: 'disable_mfa', mfaRequiredRoles: ['editor'] });
    const editor = await account({ roles: ['editor'], totp: true });
    pending = await outcomeOf(await begin(editor.email));
    const disabled = await complete(
      pending.token,
      { method: 'recovery_code', code: editor.codes[0] as string },
      true,
    );
    expect(disabled).toMatchObject({
      ok: true,
      value: { recovery: { policy: 'disable_mfa' }, twoFactorSetupRequired: true },
    });
    // Nothing is remembered for an account that no longer has two-factor.
    expect(disabled.ok && disabled.value.rememberedBrowser).toBeUndefined();
    expect(await isMfaEnabled(env.deps.store, editor.userId)).toBe(false);

    await configureRecoveryCodes(env, { policy: 'rotate', mfaRequiredRoles: [] });
    const rotated = await account({ totp: true });
    pending = await outcomeOf(await begin(rotated.email));
    const done = await complete(pending.token, { method: 'recovery_code', code: rotated.codes[0] as string });
    if (!done.ok || done.value.recovery?.policy !== 'rotate') throw new Error(JSON.stringify(done));
    expect(done.value.recovery.replacement.codes).toHaveLength(10);
  });

  test('security key: the challenge is bound to the half-signed-in session; its answer completes the sign-in', async () => {
    enableSecurityKeys(env);
    const { email, userId } = await account({ totp: true });
    const { key } = await registerSoftKey(env, userId);
    const pending = await outcomeOf(await begin(email));
    expect(pending).toMatchObject({ methods: { securityKey: true } });
    const options = await secondFactorKeyOptions(env.deps, { sessionToken: pending.token });
    if (!options.ok) throw new Error(options.error);
    const done = await complete(pending.token, {
      method: 'security_key',
      response: key.assert(options.value),
    });
    expect(done.ok && (await stageOf(done.value.token))?.signInMethod).toBe('webauthn');
    // No challenge for a session that owes nothing.
    expect(await secondFactorKeyOptions(env.deps, { sessionToken: done.ok ? done.value.token : '' })).toEqual(
      {
        ok: false,
        error: 'sign_in_expired',
      },
    );
  });

  test('passkey: signed in with method passkey; a marked role that has a passkey is not held at the setup', async () => {
    enableSecurityKeys(env);
    const { userId } = await account();
    const { key } = await registerSoftKey(env, userId);
    const passkey = async (binding: string) => {
      const options = await passkeySignInOptions(env.deps, { binding });
      if (!options.ok) throw new Error(options.error);
      const response = key.assert(options.value, { userHandle: Buffer.from(userId).toString('base64url') });
      return outcomeOf(await beginPasskeySignIn(env.deps, { binding, response, context }));
    };
    const outcome = await passkey('ceremony-1');
    expect(outcome).toMatchObject({ kind: 'signed_in', method: 'passkey', userId });
    expect(await lastSignIn(userId)).toMatchObject({ method: 'passkey' });
    // A passkey is a second factor: a marked role that has one is not held at the setup.
    await configureRecoveryCodes(env, { mfaRequiredRoles: ['subscriber'] });
    expect((await passkey('ceremony-2')).kind).toBe('signed_in');
  });
});
