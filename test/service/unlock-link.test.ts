import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DEFAULT_ACCOUNT_THROTTLE, LOCK_REPORT_GRACE_MS } from '../../src/core/throttle.js';
import { createUser, signInWithPassword } from '../../src/service/accounts/accounts.js';
import { accountThrottleKey, counters } from '../../src/service/throttle/throttle-counters.js';
import { sendUnlockLink, UNLOCK_LINK_TTL_MS } from '../../src/service/throttle/unlock-link.js';
import { testEngines } from '../helpers/engines.js';
import { configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { createTestEnvironment, type TestEnvironment } from '../helpers/service-deps.js';

const PASSWORD = 'correct horse battery staple';
const policy = DEFAULT_ACCOUNT_THROTTLE;
const context = { ip: '198.51.100.30', userAgent: 'owner' };

/*
 * The unlock link of a lock (STANDARDS req 48: "a successful password + email verification"): at most one
 * live link at a time, so signing in with the right password while locked, from several tabs or devices at
 * once, emails one link, not one per sign-in.
 */
describe.each(testEngines())('the unlock link of a locked account (%s)', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine, { notifications: true });
    await configureRecoveryCodes(env);
  });
  afterEach(async () => env.close());

  const unlockEmails = () => env.smtp.messages.filter((mail) => mail.subject.includes('is locked')).length;

  test('asked by 10 right-password sign-ins at once while locked, with no live link: one link is emailed and audited', async () => {
    const email = 'locked-owner@example.test';
    const created = await createUser(env.deps, { email, password: PASSWORD, context: {} });
    if (!created.ok) throw new Error(created.error);
    const { userId } = created.value;
    await enableTotp(env, userId);
    // Locked by failures charged straight to the counter, as the attempts would have charged them.
    const key = accountThrottleKey(userId);
    for (let i = 0; i < (policy.lockAfter as number); i += 1) {
      const state = await counters(env.deps).findAttempts(key);
      if (state?.blockedUntil) env.clock.nowMs = Math.max(env.clock.nowMs, state.blockedUntil);
      await counters(env.deps).chargeAttempt(key, policy, 'second_factor', env.clock.now());
    }
    env.clock.advance(LOCK_REPORT_GRACE_MS);
    // The first sign-in reports the lock, with its link; then that link expires unused.
    expect(await signInWithPassword(env.deps, { email, password: PASSWORD, context })).toMatchObject({
      ok: true,
      value: { secondFactorLocked: true },
    });
    expect(unlockEmails()).toBe(1);
    env.clock.advance(UNLOCK_LINK_TTL_MS);

    // Ten asks at once (sign-ins on several devices, each after its own password check).
    await Promise.all(
      Array.from({ length: 10 }, () =>
        sendUnlockLink(env.deps, { userId, context, reason: 'signed_in_while_locked' }),
      ),
    );
    // Each link is audited in the transaction that creates it, and emailed before its sign-in answers.
    const sent = await env.deps.store.listAuditEvents({ userId, action: 'mfa_unlock_link_sent', limit: 50 });
    expect(sent).toHaveLength(2);
    expect(unlockEmails()).toBe(2);
  });
});
