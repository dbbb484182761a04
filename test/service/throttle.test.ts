import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DEFAULT_ACCOUNT_THROTTLE } from '../../src/core/throttle.js';
import { createUser, signInWithPassword } from '../../src/service/accounts/accounts.js';
import { resetUserMfa } from '../../src/service/admin/reset-mfa.js';
import { sendEmailOtp, verifyEmailOtp } from '../../src/service/factors/email-otp.js';
import { verifyTotp } from '../../src/service/factors/verify-totp.js';
import { verifyRecoveryCode } from '../../src/service/recovery-codes/verify-recovery-code.js';
import { verifyStepUp } from '../../src/service/sign-in/step-up.js';
import { isSecondFactorLocked } from '../../src/service/throttle/throttle-counters.js';
import { unlockSecondFactor } from '../../src/service/throttle/unlock.js';
import { testEngines } from '../helpers/engines.js';
import { authenticatorCode, configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { createTestEnvironment, type TestEnvironment } from '../helpers/service-deps.js';
import { unlockTokenIn } from '../helpers/smtp-capture.js';

const PASSWORD = 'correct horse battery staple';
const { freeFailures, lockAfter } = DEFAULT_ACCOUNT_THROTTLE;
const WRONG_CODE = 'X-XXXXX-XXXXX';

/** A different client address per attempt: the account's counter must hold regardless (STANDARDS req 46). */
const fromAddress = (i: number) => ({ ip: `203.0.${Math.floor(i / 250)}.${i % 250}`, userAgent: 'attacker' });

describe.each(testEngines())('throttling failed attempts on %s (NIST SP 800-63B 5.2.2)', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine, { notifications: true });
    await configureRecoveryCodes(env);
  });
  afterEach(async () => env.close());

  async function victim(email = `victim-${Math.random().toString(36).slice(2)}@example.test`) {
    const created = await createUser(env.deps, { email, password: PASSWORD, context: {} });
    if (!created.ok) throw new Error(created.error);
    const totp = await enableTotp(env, created.value.userId);
    return {
      userId: created.value.userId,
      email,
      secret: totp.secret,
      codes: totp.recoveryCodes!.codes,
    };
  }

  const evaluatedRecoveryCodes = async (userId: string) =>
    (await env.deps.store.listAuditEvents({ userId, action: 'recovery_code_failed', limit: 5000 })).length;

  /** Waits out the current back-off on the test clock. */
  async function waitOutBlock(userId: string) {
    const state = await env.deps.store.findAttempts(`account:${userId}`);
    if (state?.blockedUntil) env.clock.nowMs = Math.max(env.clock.nowMs, state.blockedUntil);
  }

  test('req 46: 1,000 wrong guesses from 1,000 addresses evaluate only the free failures; the correct code is refused too (req 49)', async () => {
    const { userId, codes } = await victim();
    const kdfBefore = env.kdf.calls;
    const results = [];
    for (let i = 0; i < 1000; i += 1) {
      results.push(await verifyRecoveryCode(env.deps, { userId, code: WRONG_CODE, context: fromAddress(i) }));
    }
    expect(env.kdf.calls - kdfBefore).toBe(freeFailures);
    expect(await evaluatedRecoveryCodes(userId)).toBe(freeFailures);
    const refused = results.slice(freeFailures);
    expect(refused.every((r) => !r.ok && r.error === 'too_many_attempts' && r.retryAfterSeconds === 30)).toBe(
      true,
    );
    // Right code, during the back-off: refused, not evaluated, not consumed.
    const right = await verifyRecoveryCode(env.deps, { userId, code: codes[0]!, context: fromAddress(1001) });
    expect(right).toMatchObject({ ok: false, error: 'too_many_attempts' });
    expect(env.kdf.calls - kdfBefore).toBe(freeFailures);
    expect((await env.deps.store.getRecoveryCodeSummary(userId))?.remaining).toBe(codes.length);
    // Every refusal is audited (req 50).
    const limited = await env.deps.store.listAuditEvents({ userId, action: 'rate_limited', limit: 5000 });
    expect(limited).toHaveLength(1000 - freeFailures + 1);
  });

  test('req 47: 200 concurrent wrong guesses evaluate at most the free failures (counted in KDF runs)', async () => {
    const { userId } = await victim();
    const kdfBefore = env.kdf.calls;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        verifyRecoveryCode(env.deps, { userId, code: WRONG_CODE, context: fromAddress(i) }),
      ),
    );
    expect(env.kdf.calls - kdfBefore).toBe(freeFailures);
    expect(results.filter((r) => !r.ok && r.error === 'invalid_code')).toHaveLength(freeFailures);
    expect(results.filter((r) => !r.ok && r.error === 'too_many_attempts')).toHaveLength(200 - freeFailures);
  });

  /** The services on a store whose first transaction (an attempt's charge) reports `charged` when it ends. */
  function watchingTheCharge(charged: () => void) {
    let first = true;
    const store = new Proxy(env.deps.store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name !== 'transaction') return typeof value === 'function' ? value.bind(target) : value;
        return async (work: Parameters<typeof target.transaction>[0]) => {
          const result = await target.transaction(work);
          if (first) {
            first = false;
            charged();
          }
          return result;
        };
      },
    });
    return { ...env.deps, store };
  }

  test('req 46: the KDF starts while the charge is committed, and the attempt is evaluated only after it', async () => {
    const { userId, codes } = await victim();
    const kdfBefore = env.kdf.calls;
    let kdfRunsWhenCharged = -1;
    const deps = watchingTheCharge(() => {
      kdfRunsWhenCharged = env.kdf.calls - kdfBefore;
    });
    const result = await verifyRecoveryCode(deps, { userId, code: codes[0]!, context: fromAddress(1) });
    expect(result.ok).toBe(true);
    // Started inside the charge's transaction, before its commit returned: the hash overlaps the flush.
    expect(kdfRunsWhenCharged).toBe(1);
    expect(env.kdf.calls - kdfBefore).toBe(1);
  });

  test('req 46: a charge that fails to commit evaluates nothing: the right code stays unused', async () => {
    const { userId, codes } = await victim();
    const deps = watchingTheCharge(() => {
      throw new Error('disk I/O error (simulated: the charge did not commit)');
    });
    await expect(
      verifyRecoveryCode(deps, { userId, code: codes[0]!, context: fromAddress(1) }),
    ).rejects.toThrow('the charge did not commit');
    // Give the KDF that was started time to finish: its result is dropped, with no unhandled rejection.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await env.deps.store.getRecoveryCodeSummary(userId))?.remaining).toBe(codes.length);
    expect(await env.deps.store.listAuditEvents({ userId, action: 'recovery_code_used', limit: 5 })).toEqual(
      [],
    );
    expect(await evaluatedRecoveryCodes(userId)).toBe(0);
  });

  test('req 46: a sign-in whose charge fails to commit checks no password and records nothing', async () => {
    const { userId, email } = await victim();
    const deps = watchingTheCharge(() => {
      throw new Error('disk I/O error (simulated: the charge did not commit)');
    });
    await expect(
      signInWithPassword(deps, { email, password: PASSWORD, context: fromAddress(1) }),
    ).rejects.toThrow('the charge did not commit');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await env.deps.store.listAuditEvents({ userId, action: 'password_verified', limit: 5 })).toEqual(
      [],
    );
  });

  test('req 46: one counter per account: wrong TOTP, email and recovery codes and passwords add up', async () => {
    const { userId, email } = await victim();
    const context = { ip: '198.51.100.1' };
    expect(await verifyTotp(env.deps, { userId, code: '000000', context })).toMatchObject({
      error: 'invalid_code',
    });
    await sendEmailOtp(env.deps, { userId, attemptId: 'a1', context });
    expect(
      await verifyEmailOtp(env.deps, { userId, attemptId: 'a1', code: '00000000', context }),
    ).toMatchObject({
      error: 'invalid_code',
    });
    expect(await verifyRecoveryCode(env.deps, { userId, code: WRONG_CODE, context })).toMatchObject({
      error: 'invalid_code',
    });
    expect(await signInWithPassword(env.deps, { email, password: 'wrong password!', context })).toMatchObject(
      {
        error: 'wrong_credentials',
      },
    );
    expect(await verifyStepUp(env.deps, { userId, password: 'wrong password!', context })).toMatchObject({
      error: 'step_up_failed',
    });
    // The 5th failure started the back-off: now even the right password waits.
    const right = await signInWithPassword(env.deps, { email, password: PASSWORD, context });
    expect(right).toMatchObject({ ok: false, error: 'too_many_attempts', retryAfterSeconds: 30 });
  });

  test('req 50: a completed sign-in starts the count over; a right password alone gives back only its charge', async () => {
    const { userId, email, secret } = await victim();
    const context = { ip: '198.51.100.2' };
    for (let i = 0; i < freeFailures - 1; i += 1)
      await verifyTotp(env.deps, { userId, code: '000000', context });
    // The password is right but a second factor is owed: the four failures stay.
    expect(await signInWithPassword(env.deps, { email, password: PASSWORD, context })).toMatchObject({
      ok: true,
    });
    expect((await env.deps.store.findAttempts(`account:${userId}`))?.failures).toBe(freeFailures - 1);
    const code = authenticatorCode(secret, env.clock.nowMs);
    expect(await verifyTotp(env.deps, { userId, code, context })).toMatchObject({ ok: true });
    expect((await env.deps.store.findAttempts(`account:${userId}`))?.failures).toBe(0);
  });

  test('req 50: a recovery code that signs in starts the count over, settled in the transaction that consumes it', async () => {
    const { userId, codes } = await victim();
    const context = { ip: '198.51.100.3' };
    for (let i = 0; i < freeFailures - 1; i += 1)
      await verifyRecoveryCode(env.deps, { userId, code: WRONG_CODE, context });
    const address = await env.deps.store.findAttempts('address:198.51.100.3');
    expect(address?.failures).toBe(freeFailures - 1);
    expect(await verifyRecoveryCode(env.deps, { userId, code: codes[0] as string, context })).toMatchObject({
      ok: true,
    });
    expect((await env.deps.store.findAttempts(`account:${userId}`))?.failures).toBe(0);
    // The address gets back the charge of the attempt that succeeded, and keeps its earlier failures.
    expect((await env.deps.store.findAttempts('address:198.51.100.3'))?.failures).toBe(freeFailures - 1);
    // A second use of the same code fails and is charged like any failure.
    expect(await verifyRecoveryCode(env.deps, { userId, code: codes[0] as string, context })).toMatchObject({
      ok: false,
      error: 'code_already_used',
    });
    expect((await env.deps.store.findAttempts(`account:${userId}`))?.failures).toBe(1);
  });

  test('req 48 and 49: at 20 consecutive failures second factors lock; right TOTP, email and recovery codes are refused and nothing is consumed', async () => {
    const { userId, email, secret, codes } = await victim();
    for (let i = 0; i < (lockAfter ?? 0); i += 1) {
      await waitOutBlock(userId);
      // Just before the failure that locks: an emailed code, live (10 minutes) when the lock comes.
      if (i === (lockAfter ?? 0) - 1) {
        expect(
          await sendEmailOtp(env.deps, { userId, attemptId: 'a1', context: fromAddress(i) }),
        ).toMatchObject({ ok: true });
      }
      const result = await verifyRecoveryCode(env.deps, {
        userId,
        code: WRONG_CODE,
        context: fromAddress(i),
      });
      expect(result).toMatchObject({ ok: false, error: 'invalid_code' });
    }
    expect(await evaluatedRecoveryCodes(userId)).toBe(lockAfter);
    expect(await isSecondFactorLocked(env.deps, userId)).toBe(true);
    // The emailed code is right and unexpired, and still refused: it is not even looked at (req 49).
    const emailed = env.smtp.messages.findLast((m) => m.subject.includes('sign-in code'));
    const emailedCode = emailed?.text.match(/sign-in code is (\d+)/)?.[1] as string;
    expect(emailedCode).toMatch(/^\d{6}$/);
    expect(
      await verifyEmailOtp(env.deps, {
        userId,
        attemptId: 'a1',
        code: emailedCode,
        context: fromAddress(50),
      }),
    ).toEqual({ ok: false, error: 'mfa_locked' });
    expect(await env.deps.store.findEmailOtpChallenge('a1')).toMatchObject({ attempts: 0, consumedAt: null });
    // Waiting does not help: a year later the right codes are still refused, with 423's code.
    env.clock.advance(365 * 24 * 3600_000);
    const context = { ip: '198.51.100.3' };
    const kdfBefore = env.kdf.calls;
    expect(await verifyRecoveryCode(env.deps, { userId, code: codes[0]!, context })).toEqual({
      ok: false,
      error: 'mfa_locked',
    });
    const totp = authenticatorCode(secret, env.clock.nowMs);
    expect(await verifyTotp(env.deps, { userId, code: totp, context })).toEqual({
      ok: false,
      error: 'mfa_locked',
    });
    expect(await sendEmailOtp(env.deps, { userId, attemptId: 'a2', context })).toEqual({
      ok: false,
      error: 'mfa_locked',
    });
    expect(env.kdf.calls).toBe(kdfBefore);
    expect((await env.deps.store.getRecoveryCodeSummary(userId))?.remaining).toBe(codes.length);
    // The lock was audited and the user emailed an unlock link (RFC 4226 7.2).
    expect(await env.deps.store.listAuditEvents({ userId, action: 'mfa_locked', limit: 5 })).toHaveLength(1);
    const unlockMail = env.smtp.messages.find((m) => m.subject.includes('is locked'));
    expect(unlockMail?.to.toLowerCase()).toBe(email.toLowerCase());
    // The password still works (it is half of the unlock) and says the second step is locked.
    expect(await signInWithPassword(env.deps, { email, password: PASSWORD, context })).toMatchObject({
      ok: true,
      value: { secondFactorRequired: true, secondFactorLocked: true },
    });
  });

  test('a right password at 19 failures neither locks nor emails; the 20th failure does', async () => {
    const { userId, email } = await victim();
    for (let i = 0; i < (lockAfter ?? 0) - 1; i += 1) {
      await waitOutBlock(userId);
      await verifyTotp(env.deps, { userId, code: '000000', context: fromAddress(i) });
    }
    await waitOutBlock(userId);
    const context = fromAddress(99);
    expect(await signInWithPassword(env.deps, { email, password: PASSWORD, context })).toMatchObject({
      ok: true,
      value: { secondFactorLocked: false },
    });
    expect(await isSecondFactorLocked(env.deps, userId)).toBe(false);
    expect(env.smtp.messages.some((m) => m.subject.includes('is locked'))).toBe(false);
    await waitOutBlock(userId);
    await verifyTotp(env.deps, { userId, code: '000000', context });
    expect(await isSecondFactorLocked(env.deps, userId)).toBe(true);
  });

  test('a right recovery code as the 20th attempt signs in: no lock, no audit of one, no unlock email', async () => {
    const { userId, codes } = await victim();
    for (let i = 0; i < (lockAfter ?? 0) - 1; i += 1) {
      await waitOutBlock(userId);
      await verifyTotp(env.deps, { userId, code: '000000', context: fromAddress(i) });
    }
    await waitOutBlock(userId);
    expect(
      await verifyRecoveryCode(env.deps, { userId, code: codes[0] as string, context: fromAddress(99) }),
    ).toMatchObject({ ok: true });
    expect(await isSecondFactorLocked(env.deps, userId)).toBe(false);
    expect(await env.deps.store.listAuditEvents({ userId, action: 'mfa_locked', limit: 5 })).toEqual([]);
    expect(env.smtp.messages.some((m) => m.subject.includes('is locked'))).toBe(false);
    expect((await env.deps.store.findAttempts(`account:${userId}`))?.failures).toBe(0);
  });

  async function lockedVictim() {
    const user = await victim();
    for (let i = 0; i < (lockAfter ?? 0); i += 1) {
      await waitOutBlock(user.userId);
      await verifyTotp(env.deps, { userId: user.userId, code: '000000', context: fromAddress(i) });
    }
    const mail = env.smtp.messages.findLast((m) => m.subject.includes('is locked'));
    return { ...user, token: unlockTokenIn(mail?.text) };
  }

  test('the emailed link unlocks with the password, once; a wrong password or a spent or expired link does not', async () => {
    const { userId, email, token, codes } = await lockedVictim();
    const context = { ip: '198.51.100.4' };
    expect(
      await unlockSecondFactor(env.deps, { token, password: 'not the password', context }),
    ).toMatchObject({
      error: 'wrong_password',
    });
    expect(await isSecondFactorLocked(env.deps, userId)).toBe(true);
    // The password is throttled like any sign-in: after that wrong try, the right one waits out the back-off.
    expect(await unlockSecondFactor(env.deps, { token, password: PASSWORD, context })).toMatchObject({
      error: 'too_many_attempts',
    });
    // The wait outlasts the link; signing in with the password while locked emails a fresh one.
    await waitOutBlock(userId);
    expect(await unlockSecondFactor(env.deps, { token, password: PASSWORD, context })).toMatchObject({
      error: 'unlock_link_invalid',
    });
    const signedIn = await signInWithPassword(env.deps, { email, password: PASSWORD, context });
    expect(signedIn).toMatchObject({ ok: true, value: { secondFactorLocked: true } });
    const fresh = unlockTokenIn(env.smtp.messages.at(-1)?.text);
    expect(fresh).not.toBe(token);
    expect(await unlockSecondFactor(env.deps, { token: fresh, password: PASSWORD, context })).toEqual({
      ok: true,
      value: { userId },
    });
    expect(await isSecondFactorLocked(env.deps, userId)).toBe(false);
    expect(await unlockSecondFactor(env.deps, { token: fresh, password: PASSWORD, context })).toEqual({
      ok: false,
      error: 'unlock_link_invalid',
    });
    expect(await verifyRecoveryCode(env.deps, { userId, code: codes[0]!, context })).toMatchObject({
      ok: true,
    });
    expect(await env.deps.store.listAuditEvents({ userId, action: 'mfa_unlocked', limit: 5 })).toHaveLength(
      1,
    );
  });

  test('an unlock link expires after 30 minutes; an administrator reset unlocks too', async () => {
    const { userId, token } = await lockedVictim();
    env.clock.advance(30 * 60_000);
    expect(await unlockSecondFactor(env.deps, { token, password: PASSWORD, context: {} })).toEqual({
      ok: false,
      error: 'unlock_link_invalid',
    });
    const reset = await resetUserMfa(env.deps, {
      userId,
      reason: 'verified by phone',
      context: { actorId: 'admin' },
    });
    expect(reset.ok).toBe(true);
    expect(await isSecondFactorLocked(env.deps, userId)).toBe(false);
  });

  test('an unknown email is throttled exactly like a real account (no enumeration by throttling)', async () => {
    const { email } = await victim();
    const attempt = (address: string) =>
      signInWithPassword(env.deps, { email: address, password: 'wrong password!', context: {} });
    const outcomes = async (address: string) => {
      const seen = [];
      for (let i = 0; i <= freeFailures; i += 1) {
        const result = await attempt(address);
        seen.push(result.ok ? 'ok' : `${result.error}:${result.retryAfterSeconds ?? ''}`);
      }
      return seen;
    };
    const known = await outcomes(email);
    expect(await outcomes('nobody@example.test')).toEqual(known);
    expect(known.at(-1)).toBe('too_many_attempts:30');
  });

  test('per address: 20 failures across 20 accounts block that address, not the accounts', async () => {
    const context = { ip: '192.0.2.99' };
    const users = [];
    for (let i = 0; i < 21; i += 1) users.push(await victim());
    for (const user of users.slice(0, 20)) {
      expect(
        await verifyRecoveryCode(env.deps, { userId: user.userId, code: WRONG_CODE, context }),
      ).toMatchObject({ error: 'invalid_code' });
    }
    const blocked = await verifyRecoveryCode(env.deps, {
      userId: users[20]!.userId,
      code: WRONG_CODE,
      context,
    });
    expect(blocked).toMatchObject({ ok: false, error: 'too_many_attempts' });
    // The same account from another address is fine; a backend with an API key is never charged per address.
    const elsewhere = { ip: '192.0.2.100' };
    const code = users[20]!.codes[0]!;
    expect(
      await verifyRecoveryCode(env.deps, { userId: users[20]!.userId, code, context: elsewhere }),
    ).toMatchObject({
      ok: true,
    });
    const backend = { ...context, viaBackend: true };
    const code2 = users[20]!.codes[1]!;
    expect(
      await verifyRecoveryCode(env.deps, { userId: users[20]!.userId, code: code2, context: backend }),
    ).toMatchObject({ ok: true });
  });

  test('req 35: the 6th email in a quarter hour is refused and not sent', async () => {
    const { userId } = await victim();
    const before = env.smtp.messages.length;
    const results = [];
    for (let i = 0; i < 6; i += 1) {
      results.push(
        await sendEmailOtp(env.deps, { userId, attemptId: `a${i}`, context: { ip: '198.51.100.9' } }),
      );
    }
    expect(results.slice(0, 5).every((r) => r.ok)).toBe(true);
    expect(results[5]).toMatchObject({ ok: false, error: 'too_many_attempts', retryAfterSeconds: 900 });
    expect(env.smtp.messages.length - before).toBe(5);
  });
});
