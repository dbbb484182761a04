import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { ThrottlePolicy } from '../../core/throttle.js';
import { newChallenge } from './email-otp-settings.contract.js';
import { at, givenUser, type MakeStore, useFreshStore } from './fixtures.js';
import { newSession } from './sessions.contract.js';

const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
const policy = (overrides: Partial<ThrottlePolicy> = {}): ThrottlePolicy => ({
  freeFailures: 20,
  baseDelayMs: 30_000,
  maxDelayMs: HOUR,
  lockAfter: null,
  forgetAfterMs: null,
  ...overrides,
});
const rules = (now: Date) => ({
  at: now,
  throttleForgetting: [{ keyPrefix: 'address:', idleMs: HOUR }],
  webhookLogRetentionMs: 30 * DAY,
  lockReports: { countersInDatabase: true, retentionMs: 365 * DAY },
});

export function defineMaintenanceContract(makeStore: MakeStore): void {
  describe('purging what can no longer be used', () => {
    const opened = useFreshStore(makeStore);

    test('expired sessions, links, remembered browsers and emailed codes go; live ones stay', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const [deadSession, liveSession] = [
        newSession(user.id, { expiresAt: at(HOUR) }),
        newSession(user.id, { expiresAt: at(3 * HOUR) }),
      ];
      for (const session of [deadSession, liveSession]) await store.createSession(session);
      for (const [idHash, expiresAt] of [
        ['dead-link', at(HOUR)],
        ['live-link', at(3 * HOUR)],
      ] as const) {
        await store.createActionToken({
          idHash,
          purpose: 'password_reset',
          userId: user.id,
          createdAt: at(0),
          expiresAt,
        });
      }
      for (const [tokenHash, expiresAt] of [
        ['dead-device', at(HOUR)],
        ['live-device', at(3 * HOUR)],
      ] as const) {
        await store.rememberDevice({
          id: randomUUID(),
          tokenHash,
          userId: user.id,
          label: 'Firefox on Linux',
          ip: null,
          createdAt: at(0),
          expiresAt,
        });
      }
      const deadCode = { ...newChallenge(user.id), expiresAt: at(10 * 60_000) };
      const liveCode = { ...newChallenge(user.id), expiresAt: at(2 * HOUR + 60_000) };
      for (const challenge of [deadCode, liveCode]) await store.replaceEmailOtpChallenge(challenge);

      const purged = await store.purgeExpired(rules(at(2 * HOUR)));
      expect(purged).toMatchObject({ sessions: 1, actionTokens: 1, rememberedDevices: 1, emailCodes: 1 });
      expect(await store.findSession(deadSession.idHash)).toBeUndefined();
      expect(await store.findSession(liveSession.idHash)).toEqual(liveSession);
      expect(await store.findActionToken('live-link', 'password_reset', at(2 * HOUR))).toEqual({
        userId: user.id,
      });
      expect(await store.findRememberedDevice('live-device', at(2 * HOUR))).toMatchObject({
        userId: user.id,
      });
      expect(await store.findEmailOtpChallenge(deadCode.attemptId)).toBeUndefined();
      expect(await store.findEmailOtpChallenge(liveCode.attemptId)).toMatchObject({ id: liveCode.id });
      // Nothing left to do: a second run deletes nothing.
      expect(Object.values(await store.purgeExpired(rules(at(2 * HOUR))))).toEqual([
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      ]);
    });

    test('throttle counters go only when they no longer hold anything back', async () => {
      const { store } = opened();
      const charge = (key: string, p: ThrottlePolicy, atMs: number) =>
        store.chargeAttempt(key, p, 'second_factor', at(atMs));
      await charge('address:192.0.2.1', policy({ forgetAfterMs: HOUR }), 0); // idle past its policy's hour
      await charge('address:192.0.2.2', policy({ forgetAfterMs: HOUR }), 2 * HOUR - 60_000); // recent
      await charge('account:counted', policy(), 0); // an account's failures are never forgotten
      await charge('account:settled', policy(), 0);
      await store.settleAttempt('account:settled', policy(), 'reset', at(1)); // counts nothing any more
      await charge('address:locked', policy({ lockAfter: 1 }), 0); // a lock waits for its unlock
      await charge(
        'address:blocked',
        policy({ freeFailures: 1, baseDelayMs: 10 * HOUR, maxDelayMs: 10 * HOUR }),
        0,
      );

      const purged = await store.purgeExpired(rules(at(2 * HOUR)));
      expect(purged.throttleCounters).toBe(2);
      const left = async (key: string) => (await store.findAttempts(key)) !== undefined;
      expect(await left('address:192.0.2.1')).toBe(false);
      expect(await left('account:settled')).toBe(false);
      for (const key of ['address:192.0.2.2', 'account:counted', 'address:locked', 'address:blocked']) {
        expect([key, await left(key)]).toEqual([key, true]);
      }
    });

    test('a counter charged while the purge runs is kept (the condition is checked again as it deletes)', async () => {
      const { store } = opened();
      const key = 'account:racing';
      await store.chargeAttempt(key, policy(), 'second_factor', at(0));
      await store.settleAttempt(key, policy(), 'reset', at(1)); // nothing counted: purgeable
      let purging: Promise<unknown> | undefined;
      await store.transaction(async (tx) => {
        // Charged and not yet committed when the purge starts (PostgreSQL: the purge's DELETE waits for
        // this row's lock, then finds it counting again; SQLite: the purge waits for the connection).
        await tx.chargeAttempt(key, policy(), 'second_factor', at(2));
        purging = store.purgeExpired(rules(at(2 * HOUR)));
        await new Promise((resolve) => setTimeout(resolve, 200));
      });
      expect(await purging).toMatchObject({ throttleCounters: 0 });
      expect(await store.findAttempts(key)).toMatchObject({ failures: 1 });
    });

    test('a lock report goes once no counter holds its lock; with the counters elsewhere, after the retention', async () => {
      const { store } = opened();
      const key = 'account:locked-then-unlocked';
      await store.chargeAttempt(key, policy({ lockAfter: 1 }), 'second_factor', at(0));
      const lockedAt = (await store.findAttempts(key))?.lockedAt;
      if (typeof lockedAt !== 'number') throw new Error('the charge did not lock');
      expect(await store.claimLockReport(key, lockedAt, at(1))).toEqual({ claimed: true });
      await store.claimLockReport('account:reset', 0, at(1)); // its counter was reset: no row holds the lock

      // The lock stands: its report stays (a later attempt would otherwise report it again).
      expect((await store.purgeExpired(rules(at(2 * HOUR)))).lockReports).toBe(1);
      expect(await store.isLockReported(key, lockedAt)).toBe(true);
      expect(await store.isLockReported('account:reset', 0)).toBe(false);

      await store.clearAttempts(key); // unlocked
      expect((await store.purgeExpired(rules(at(2 * HOUR)))).lockReports).toBe(1);
      expect(await store.isLockReported(key, lockedAt)).toBe(false);

      // Counters in Redis: the database cannot see the lock, so only age decides.
      await store.claimLockReport('account:redis', 0, at(HOUR));
      const elsewhere = (now: Date, retentionMs: number) => ({
        ...rules(now),
        lockReports: { countersInDatabase: false, retentionMs },
      });
      expect((await store.purgeExpired(elsewhere(at(2 * HOUR), 2 * HOUR))).lockReports).toBe(0);
      expect((await store.purgeExpired(elsewhere(at(4 * HOUR), 2 * HOUR))).lockReports).toBe(1);
      expect(await store.isLockReported('account:redis', 0)).toBe(false);
    });

    test('finished webhook deliveries go after the retention; pending ones and recent ones stay', async () => {
      const { store } = opened();
      await store.createWebhookEndpoint({
        id: randomUUID(),
        url: 'https://hooks.example.com/sparekey',
        events: ['recovery_code.used'],
        createdAt: at(0),
        createdBy: null,
      });
      const deliver = async (createdAt: Date, outcome: 'delivered' | 'failed' | null) => {
        await store.enqueueWebhookDeliveries(
          { type: 'recovery_code.used', payload: async () => '{}', at: createdAt },
          () => randomUUID(),
        );
        if (!outcome) return;
        const [claim] = await store.claimDueWebhookDeliveries(createdAt, at(createdAt.getTime() + 60_000), 1);
        await store.recordWebhookAttempt(claim?.id as string, {
          at: createdAt,
          outcome,
          statusCode: 200,
          error: null,
        });
      };
      await deliver(at(0), 'delivered');
      await deliver(at(1), 'failed');
      await deliver(at(29 * DAY), 'delivered');
      await deliver(at(2), null); // still pending, however old: never purged

      expect((await store.purgeExpired(rules(at(31 * DAY)))).webhookDeliveries).toBe(2);
      expect((await store.listWebhookDeliveries(10)).map((d) => d.status).sort()).toEqual([
        'delivered',
        'pending',
      ]);
    });

    test('an event recorded while its webhook endpoint is being removed still commits, with no delivery', async () => {
      const { store } = opened();
      const endpointId = randomUUID();
      await store.createWebhookEndpoint({
        id: endpointId,
        url: 'https://hooks.example.com/sparekey',
        events: ['mfa.locked'],
        createdAt: at(0),
        createdBy: null,
      });
      let recording: Promise<number> | undefined;
      await store.transaction(async (tx) => {
        expect(await tx.deleteWebhookEndpoint(endpointId)).toEqual({ deleted: true });
        // A recovery-code use emitting its event while the removal is not yet committed: it must not
        // fail on the endpoint vanishing under it (that would be a 5xx for the user).
        recording = store.transaction((other) =>
          other.enqueueWebhookDeliveries({ type: 'mfa.locked', payload: async () => '{}', at: at(1) }, () =>
            randomUUID(),
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 200));
      });
      expect(await recording).toBe(0);
      expect((await store.listWebhookDeliveries(50)).filter((d) => d.endpointId === endpointId)).toEqual([]);
    });
  });
}
