import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DEFAULT_EMAIL_SEND_ADDRESS_THROTTLE, DEFAULT_EMAIL_SEND_THROTTLE } from '../../src/core/throttle.js';
import { createUser, signInWithPassword } from '../../src/service/accounts/accounts.js';
import {
  inspectResetLink,
  PASSWORD_RESET_TTL_MS,
  requestPasswordReset,
  resetPassword,
} from '../../src/service/accounts/password-reset.js';
import { resolveSession, startSession } from '../../src/service/sessions/sessions.js';
import { testEngines } from '../helpers/engines.js';
import { authenticatorCode, configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { createTestEnvironment, type TestEnvironment } from '../helpers/service-deps.js';
import { stateSnapshot } from '../helpers/state-snapshot.js';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new passphrase 42';

describe.each(testEngines())('forgotten password on %s (OWASP Forgot Password CS)', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine, { notifications: true });
    await configureRecoveryCodes(env);
  });
  afterEach(async () => env.close());

  let counter = 0;
  async function account(withTotp: boolean) {
    counter += 1;
    const email = `reset-${counter}@example.test`;
    const created = await createUser(env.deps, { email, password: PASSWORD, context: {} });
    if (!created.ok) throw new Error(created.error);
    const totp = withTotp ? await enableTotp(env, created.value.userId) : undefined;
    return {
      userId: created.value.userId,
      email,
      secret: totp?.secret,
      codes: totp?.recoveryCodes?.codes ?? [],
    };
  }

  /** Asks for a link and returns the token from the email that arrived. */
  async function resetLink(email: string, ip = '198.51.100.7'): Promise<string> {
    const before = env.smtp.messages.length;
    const requested = await requestPasswordReset(env.deps, { email, context: { ip } });
    if (!requested.ok) throw new Error(requested.error);
    await requested.delivered;
    const mail = env.smtp.messages.slice(before).find((message) => message.to.includes(email));
    const token = mail?.text.match(/\/reset-password\?token=([A-Za-z0-9_-]+)/)?.[1];
    if (!token) throw new Error('no reset link was emailed');
    return token;
  }

  const canSignIn = async (email: string, password: string) =>
    (await signInWithPassword(env.deps, { email, password, context: {} })).ok;

  test('the answer and the audit trail are the same shape whether or not the address has an account', async () => {
    const { email } = await account(false);
    const known = await requestPasswordReset(env.deps, { email, context: { ip: '198.51.100.1' } });
    const unknown = await requestPasswordReset(env.deps, {
      email: 'nobody@example.test',
      context: { ip: '198.51.100.1' },
    });
    expect(Object.keys(known).sort()).toEqual(Object.keys(unknown).sort());
    if (!known.ok || !unknown.ok) throw new Error('refused');
    await Promise.all([known.delivered, unknown.delivered]);
    expect(env.smtp.messages.filter((message) => message.to.includes('nobody@'))).toHaveLength(0);
    const events = await env.deps.store.listAuditEvents({ action: 'password_reset_requested', limit: 10 });
    expect(events.map((event) => event.outcome).sort()).toEqual(['failure', 'success']);
  });

  test('the link is stored hashed, works once, and dies after 30 minutes or when a newer one is sent', async () => {
    const { email } = await account(false);
    const first = await resetLink(email);
    const second = await resetLink(email);
    expect(await inspectResetLink(env.deps, first)).toBeUndefined();
    expect(await resetPassword(env.deps, { token: first, newPassword: NEW_PASSWORD, context: {} })).toEqual({
      ok: false,
      error: 'reset_link_invalid',
    });
    const rows = await env.opened.db.selectFrom('action_tokens').select('id_hash').execute();
    for (const row of rows) expect([first, second]).not.toContain(row.id_hash);

    expect(
      await resetPassword(env.deps, { token: second, newPassword: NEW_PASSWORD, context: {} }),
    ).toMatchObject({ ok: true });
    expect(
      await resetPassword(env.deps, { token: second, newPassword: 'yet another passphrase', context: {} }),
    ).toEqual({
      ok: false,
      error: 'reset_link_invalid',
    });
    expect(await canSignIn(email, NEW_PASSWORD)).toBe(true);

    const expiring = await resetLink(email);
    env.clock.advance(PASSWORD_RESET_TTL_MS);
    expect(
      await resetPassword(env.deps, { token: expiring, newPassword: 'too late passphrase', context: {} }),
    ).toEqual({
      ok: false,
      error: 'reset_link_invalid',
    });
    expect(await canSignIn(email, NEW_PASSWORD)).toBe(true);
  });

  test('a reset ends every session, is audited, and emails the user; a weak new password is refused', async () => {
    const { userId, email } = await account(false);
    const { token: session } = await startSession(env.deps, { userId, stage: 'signed_in', context: {} });
    const token = await resetLink(email);
    expect(await resetPassword(env.deps, { token, newPassword: 'password', context: {} })).toMatchObject({
      ok: false,
    });
    expect(await canSignIn(email, PASSWORD)).toBe(true);
    const before = env.smtp.messages.length;
    expect(await resetPassword(env.deps, { token, newPassword: NEW_PASSWORD, context: {} })).toMatchObject({
      ok: true,
    });
    expect(await resolveSession(env.deps, session)).toBeUndefined();
    expect(await canSignIn(email, PASSWORD)).toBe(false);
    const [event] = await env.deps.store.listAuditEvents({ action: 'password_reset', limit: 1 });
    expect(event).toMatchObject({ userId, details: { secondFactor: 'none', sessionsEnded: 1 } });
    expect(env.smtp.messages.slice(before).map((message) => message.subject)).toEqual([
      'Your SpareKey Test password was changed',
    ]);
  });

  test('2FA account: the link alone is refused and changes nothing; a TOTP code completes it', async () => {
    const { email, secret } = await account(true);
    const token = await resetLink(email);
    expect(await inspectResetLink(env.deps, token)).toMatchObject({
      secondFactorRequired: true,
      hasTotp: true,
    });
    const before = await stateSnapshot(env);
    expect(await resetPassword(env.deps, { token, newPassword: NEW_PASSWORD, context: {} })).toEqual({
      ok: false,
      error: 'second_factor_required',
    });
    expect(await stateSnapshot(env)).toEqual(before);
    expect(
      await resetPassword(env.deps, { token, newPassword: NEW_PASSWORD, totpCode: '000000', context: {} }),
    ).toMatchObject({
      ok: false,
      error: 'invalid_code',
    });
    expect(await canSignIn(email, PASSWORD)).toBe(true);
    const code = authenticatorCode(secret as string, env.clock.nowMs);
    expect(
      await resetPassword(env.deps, { token, newPassword: NEW_PASSWORD, totpCode: code, context: {} }),
    ).toMatchObject({ ok: true });
    expect(await canSignIn(email, NEW_PASSWORD)).toBe(true);
  });

  test('2FA account: a recovery code completes it, and is consumed and audited like any other use', async () => {
    const { userId, email, codes } = await account(true);
    const token = await resetLink(email);
    const result = await resetPassword(env.deps, {
      token,
      newPassword: NEW_PASSWORD,
      recoveryCode: codes[0] as string,
      context: { ip: '198.51.100.9' },
    });
    expect(result).toMatchObject({
      ok: true,
      value: { recovery: { policy: 'continue', remaining: codes.length - 1 } },
    });
    const [used] = await env.deps.store.listAuditEvents({ userId, action: 'recovery_code_used', limit: 1 });
    expect(used).toMatchObject({ ip: '198.51.100.9' });
    const [reset] = await env.deps.store.listAuditEvents({ userId, action: 'password_reset', limit: 1 });
    expect(reset?.details).toMatchObject({ secondFactor: 'recovery_code' });
    // Spent: the same code cannot serve again, here or at sign-in.
    const again = await resetLink(email);
    expect(
      await resetPassword(env.deps, {
        token: again,
        newPassword: 'another new passphrase',
        recoveryCode: codes[0] as string,
        context: {},
      }),
    ).toMatchObject({ ok: false, error: 'code_already_used' });
  });

  test('requests are throttled per address typed and per client IP, the same for unknown addresses', async () => {
    const { email } = await account(false);
    const limit = DEFAULT_EMAIL_SEND_THROTTLE.freeFailures;
    for (let i = 0; i < limit; i++) {
      expect(
        await requestPasswordReset(env.deps, { email, context: { ip: `203.0.113.${i}` } }),
      ).toMatchObject({ ok: true });
    }
    expect(await requestPasswordReset(env.deps, { email, context: { ip: '203.0.113.200' } })).toMatchObject({
      ok: false,
      error: 'too_many_attempts',
    });
    for (let i = 0; i < DEFAULT_EMAIL_SEND_ADDRESS_THROTTLE.freeFailures; i++) {
      expect(
        await requestPasswordReset(env.deps, {
          email: `nobody-${i}@example.test`,
          context: { ip: '203.0.113.99' },
        }),
      ).toMatchObject({ ok: true });
    }
    expect(
      await requestPasswordReset(env.deps, {
        email: 'nobody-x@example.test',
        context: { ip: '203.0.113.99' },
      }),
    ).toMatchObject({
      ok: false,
      error: 'too_many_attempts',
    });
  });
});
