import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DEFAULT_ACCOUNT_THROTTLE, LOCK_REPORT_GRACE_MS } from '../../src/core/throttle.js';
import { createUser, signInWithPassword } from '../../src/service/accounts/accounts.js';
import type { ServiceDeps } from '../../src/service/deps.js';
import { verifyTotp } from '../../src/service/factors/verify-totp.js';
import { verifyRecoveryCode } from '../../src/service/recovery-codes/verify-recovery-code.js';
import {
  accountThrottleKey,
  counters,
  isSecondFactorLocked,
} from '../../src/service/throttle/throttle-counters.js';
import { unlockSecondFactor } from '../../src/service/throttle/unlock.js';
import { addWebhookEndpoint } from '../../src/service/webhooks/webhooks.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { testEngines } from '../helpers/engines.js';
import { authenticatorCode, configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { redisAvailable, testRedisCounters } from '../helpers/redis.js';
import { createTestEnvironment, type TestEnvironment } from '../helpers/service-deps.js';
import { unlockTokenIn } from '../helpers/smtp-capture.js';

/*
 * Issue 8, "a crash never loses" the lockout report. The lock commits with the charge of the attempt that
 * reaches it; its report (audit `mfa_locked`, webhook `mfa.locked`, the unlock email) comes after that
 * attempt is evaluated. These tests kill the attempt in between and show that a later attempt reports the
 * lock exactly once, with the counters in the database and in Redis (STANDARDS req 50, RFC 4226 7.2).
 */

const PASSWORD = 'correct horse battery staple';
const policy = DEFAULT_ACCOUNT_THROTTLE;
const lockAfter = policy.lockAfter as number;
const context = { ip: '198.51.100.20', userAgent: 'attacker' };

const withRedis = await redisAvailable();
const setups = testEngines().flatMap((engine) => [
  { engine, counters: 'database' as const },
  ...(withRedis ? [{ engine, counters: 'redis' as const }] : []),
]);

/** The same services on a store whose report transactions die: the process is killed before the commit. */
function dyingBeforeTheReport(deps: ServiceDeps): ServiceDeps {
  const dying = (tx: Store): Store =>
    new Proxy(tx, {
      get(target, name, receiver) {
        if (name === 'claimLockReport') {
          return async () => {
            throw new Error('the process died before the lock was reported');
          };
        }
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const store = new Proxy(deps.store, {
    get(target, name, receiver) {
      if (name === 'transaction') {
        return (work: (tx: Store) => Promise<unknown>) => target.transaction((tx) => work(dying(tx)));
      }
      const value = Reflect.get(target, name, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { ...deps, store };
}

describe.each(setups)(
  'a lock whose report died with its process ($engine, counters in the $counters)',
  (setup) => {
    let env: TestEnvironment;
    let deps: ServiceDeps;
    beforeEach(async () => {
      env = await createTestEnvironment(setup.engine, { notifications: true });
      deps = setup.counters === 'redis' ? { ...env.deps, attemptCounters: testRedisCounters() } : env.deps;
      await configureRecoveryCodes(env);
      const hook = await addWebhookEndpoint(deps, {
        url: 'https://hooks.example.test/sparekey',
        events: ['mfa.locked'],
        context: {},
      });
      expect(hook.ok).toBe(true);
    });
    afterEach(async () => {
      await deps.attemptCounters?.close?.();
      await env.close();
    });

    async function victim() {
      const email = `victim-${Math.random().toString(36).slice(2)}@example.test`;
      const created = await createUser(deps, { email, password: PASSWORD, context: {} });
      if (!created.ok) throw new Error(created.error);
      const totp = await enableTotp(env, created.value.userId);
      const userId = created.value.userId;
      return {
        userId,
        email,
        key: accountThrottleKey(userId),
        secret: totp.secret,
        codes: totp.recoveryCodes!.codes,
      };
    }

    async function waitOutBlock(key: string) {
      const state = await counters(deps).findAttempts(key);
      if (state?.blockedUntil) env.clock.nowMs = Math.max(env.clock.nowMs, state.blockedUntil);
    }

    /** Charges `n` failures straight to the counters, each after the block before it, as attempts would. */
    async function chargeFailures(key: string, n: number) {
      for (let i = 0; i < n; i += 1) {
        await waitOutBlock(key);
        expect(
          await counters(deps).chargeAttempt(key, policy, 'second_factor', env.clock.now()),
        ).toMatchObject({
          charged: true,
        });
      }
    }

    /** The lock's report as the user, the operator and a webhook receiver see it. */
    async function reports(userId: string) {
      return {
        audited: (await deps.store.listAuditEvents({ userId, action: 'mfa_locked', limit: 50 })).length,
        outbox: (await deps.store.listWebhookDeliveries(100)).filter((row) => row.eventType === 'mfa.locked')
          .length,
        emailed: env.smtp.messages.filter((mail) => mail.subject.includes('is locked')).length,
      };
    }
    const NONE = { audited: 0, outbox: 0, emailed: 0 };
    const ONCE = { audited: 1, outbox: 1, emailed: 1 };

    const rightTotp = (secret: string) => authenticatorCode(secret, env.clock.nowMs);

    test('issue 8: the next attempt reports it: one audit event, one outbox row, one unlock email; the link then unlocks', async () => {
      const { userId, key, email, secret, codes } = await victim();
      for (let i = 0; i < lockAfter - 1; i += 1) {
        await waitOutBlock(key);
        expect(await verifyTotp(deps, { userId, code: '000000', context })).toMatchObject({
          error: 'invalid_code',
        });
      }
      await waitOutBlock(key);
      // The 20th wrong code: its charge (the lock) commits, then the process dies before the report commits.
      await expect(
        verifyTotp(dyingBeforeTheReport(deps), { userId, code: '000000', context }),
      ).rejects.toThrow('the process died');
      expect(await isSecondFactorLocked(deps, userId)).toBe(true);
      expect(await reports(userId)).toEqual(NONE);

      env.clock.advance(LOCK_REPORT_GRACE_MS);
      expect(await verifyTotp(deps, { userId, code: rightTotp(secret), context })).toEqual({
        ok: false,
        error: 'mfa_locked',
      });
      expect(await reports(userId)).toEqual(ONCE);
      const audited = await deps.store.listAuditEvents({ userId, action: 'mfa_locked', limit: 5 });
      expect(audited[0]?.details).toMatchObject({ failures: lockAfter });

      // Later attempts and the password step meet a reported lock: nothing more is written or sent.
      expect(await verifyRecoveryCode(deps, { userId, code: codes[0]!, context })).toEqual({
        ok: false,
        error: 'mfa_locked',
      });
      expect(await signInWithPassword(deps, { email, password: PASSWORD, context })).toMatchObject({
        ok: true,
        value: { secondFactorLocked: true },
      });
      expect(await reports(userId)).toEqual(ONCE);

      const mail = env.smtp.messages.find((message) => message.subject.includes('is locked'));
      const token = unlockTokenIn(mail?.text);
      expect(await unlockSecondFactor(deps, { token, password: PASSWORD, context })).toEqual({
        ok: true,
        value: { userId },
      });
      expect(await isSecondFactorLocked(deps, userId)).toBe(false);
    });

    test('issue 8: 20 concurrent next attempts, over two connections to the database, report it exactly once', async () => {
      const { userId, key, secret, codes } = await victim();
      // Charged to the lock with no attempt ever evaluated or reported: the 20th attempt's process died.
      await chargeFailures(key, lockAfter);
      env.clock.advance(LOCK_REPORT_GRACE_MS);
      // A second connection pool on the same database stands for a second server process.
      const second: OpenedStore = await openStore(env.database);
      try {
        const other = { ...deps, store: second.store };
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => {
            const on = i % 2 === 0 ? deps : other;
            return i % 4 < 2
              ? verifyTotp(on, { userId, code: rightTotp(secret), context })
              : verifyRecoveryCode(on, { userId, code: codes[i % codes.length]!, context });
          }),
        );
        expect(results.every((result) => !result.ok && result.error === 'mfa_locked')).toBe(true);
      } finally {
        await second.close();
      }
      expect(await reports(userId)).toEqual(ONCE);
      expect((await deps.store.getRecoveryCodeSummary(userId))?.remaining).toBe(codes.length);
    });

    test('the password step that meets it reports it before the password is checked; one email, not two', async () => {
      const { userId, key, email } = await victim();
      await chargeFailures(key, lockAfter);
      env.clock.advance(LOCK_REPORT_GRACE_MS);
      // A right password while locked also emails a link when none is live (accounts.ts): the report's link
      // is live by then, so the user gets one email.
      for (let i = 0; i < 2; i += 1) {
        expect(await signInWithPassword(deps, { email, password: PASSWORD, context })).toMatchObject({
          ok: true,
          value: { secondFactorLocked: true },
        });
        expect(await reports(userId)).toEqual(ONCE);
      }
      const audited = await deps.store.listAuditEvents({ userId, limit: 50 });
      const order = audited.map((event) => event.action).reverse();
      expect(order.indexOf('mfa_locked')).toBeLessThan(order.indexOf('password_verified'));
    });

    test('within its first minute a lock is left to the attempt that made it: if that attempt succeeds, nothing is reported', async () => {
      const { userId, key, secret } = await victim();
      // The 20th attempt is charged (the lock) and still being evaluated when another attempt comes.
      await chargeFailures(key, lockAfter);
      expect(await verifyTotp(deps, { userId, code: rightTotp(secret), context })).toEqual({
        ok: false,
        error: 'mfa_locked',
      });
      expect(await reports(userId)).toEqual(NONE);
      // The 20th attempt was a right code: its settlement gives the lock back (throttle.ts), and so no lock
      // was ever reported, now or later.
      await counters(deps).settleAttempt(key, policy, 'reset', env.clock.now());
      env.clock.advance(LOCK_REPORT_GRACE_MS);
      expect(await verifyTotp(deps, { userId, code: '000000', context })).toMatchObject({
        error: 'invalid_code',
      });
      expect(await reports(userId)).toEqual(NONE);
    });
  },
);
