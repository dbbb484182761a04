import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { sendEmailOtp, verifyEmailOtp } from '../../src/service/factors/email-otp.js';
import { testEngines } from '../helpers/engines.js';
import {
  createTestEnvironment,
  createTestUser,
  type TestEnvironment,
  UNTHROTTLED,
} from '../helpers/service-deps.js';

describe.each(testEngines())('email one-time codes on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine, { throttle: UNTHROTTLED });
  });
  afterEach(async () => env.close());

  /** Sends a code through the real SMTP server and reads it back from the captured message. */
  async function sendAndRead(userId: string, attemptId: string): Promise<string> {
    const before = env.smtp.messages.length;
    const sent = await sendEmailOtp(env.deps, { userId, attemptId, context: {} });
    if (!sent.ok) throw new Error(sent.error);
    const message = env.smtp.messages[before];
    const code = message?.text.match(/code is (\d{6})/)?.[1];
    if (!code) throw new Error(`no code in ${JSON.stringify(message)}`);
    return code;
  }

  test('the code arrives by email, works once, and is never stored or audited in clear (req 31, 32)', async () => {
    const user = await createTestUser(env, { email: 'Ada@Example.test' });
    const code = await sendAndRead(user.id, 'attempt-1');
    // Mail software lower-cases the domain; the local part is kept as the user typed it.
    expect(env.smtp.messages[0]).toMatchObject({
      to: 'Ada@example.test',
      subject: 'Your SpareKey Test sign-in code',
    });
    const verify = () =>
      verifyEmailOtp(env.deps, { userId: user.id, attemptId: 'attempt-1', code: ` ${code} `, context: {} });
    expect(await verify()).toMatchObject({ ok: true });
    expect(await verify()).toEqual({ ok: false, error: 'invalid_code' });
    const events = await env.deps.store.listAuditEvents({ userId: user.id, limit: 10 });
    expect(JSON.stringify(events)).not.toContain(code);
    expect(JSON.stringify(await env.deps.store.findEmailOtpChallenge('attempt-1'))).not.toContain(
      `"${code}"`,
    );
  });

  test('req 31: a code is bound to the sign-in attempt that asked for it', async () => {
    const user = await createTestUser(env);
    const code = await sendAndRead(user.id, 'attempt-A');
    await sendAndRead(user.id, 'attempt-B');
    expect(
      await verifyEmailOtp(env.deps, { userId: user.id, attemptId: 'attempt-B', code, context: {} }),
    ).toMatchObject({
      ok: false,
    });
    expect(
      await verifyEmailOtp(env.deps, { userId: user.id, attemptId: 'attempt-A', code, context: {} }),
    ).toMatchObject({
      ok: true,
    });
  });

  test('req 33: a resend kills the previous code', async () => {
    const user = await createTestUser(env);
    const first = await sendAndRead(user.id, 'attempt-1');
    let second = await sendAndRead(user.id, 'attempt-1');
    while (second === first) second = await sendAndRead(user.id, 'attempt-1');
    const check = (code: string) =>
      verifyEmailOtp(env.deps, { userId: user.id, attemptId: 'attempt-1', code, context: {} });
    expect(await check(first)).toEqual({ ok: false, error: 'invalid_code' });
    expect(await check(second)).toMatchObject({ ok: true });
  });

  test('req 30: the code works at 9:59 and has expired at 10:00', async () => {
    const user = await createTestUser(env);
    const code = await sendAndRead(user.id, 'attempt-1');
    const check = () =>
      verifyEmailOtp(env.deps, { userId: user.id, attemptId: 'attempt-1', code, context: {} });
    env.clock.advance(10 * 60_000);
    expect(await check()).toEqual({ ok: false, error: 'email_code_expired' });
    env.clock.advance(-1000);
    expect(await check()).toMatchObject({ ok: true });
  });

  test('req 34: after 5 wrong guesses even the right code is refused', async () => {
    const user = await createTestUser(env);
    const code = await sendAndRead(user.id, 'attempt-1');
    const wrong = code === '000000' ? '000001' : '000000';
    const check = (guess: string) =>
      verifyEmailOtp(env.deps, { userId: user.id, attemptId: 'attempt-1', code: guess, context: {} });
    for (let i = 0; i < 5; i++) expect(await check(wrong)).toEqual({ ok: false, error: 'invalid_code' });
    expect(await check(code)).toEqual({ ok: false, error: 'email_code_attempts_exhausted' });
  });

  test('req 34: 30 concurrent wrong guesses are charged before evaluation: at most 5 are evaluated', async () => {
    const user = await createTestUser(env);
    const code = await sendAndRead(user.id, 'attempt-1');
    const wrong = code === '000000' ? '000001' : '000000';
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        verifyEmailOtp(env.deps, { userId: user.id, attemptId: 'attempt-1', code: wrong, context: {} }),
      ),
    );
    const evaluated = results.filter((r) => !r.ok && r.error === 'invalid_code');
    expect(evaluated).toHaveLength(5);
  });

  test('an operator can switch emailed codes off (req 28)', async () => {
    const user = await createTestUser(env);
    env.deps.options.emailOtp.enabled = false;
    expect(await sendEmailOtp(env.deps, { userId: user.id, attemptId: 'a', context: {} })).toEqual({
      ok: false,
      error: 'email_otp_disabled',
    });
    expect(env.smtp.messages).toHaveLength(0);
  });
});
