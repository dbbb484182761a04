import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { at, auditInput, count, type MakeStore, race, useFreshStore } from './fixtures.js';

const freshKey = () => `account:${randomUUID()}`;

/**
 * The report of a second-factor lock happens once per lock (issue 8: a crash never loses the `mfa_locked`
 * event, and a retry never doubles it): the claim is one conditional insert that commits or rolls back
 * with the report's other writes, in whichever process and transaction makes it.
 */
export function defineLockReportContract(makeStore: MakeStore): void {
  describe('lock reports', () => {
    const opened = useFreshStore(makeStore);

    test('30 concurrent reporters of one lock, each claiming and auditing in one transaction: one report', async () => {
      const { store } = opened();
      const key = freshKey();
      const lockedAt = at(0).getTime();
      expect(await store.isLockReported(key, lockedAt)).toBe(false);
      const claims = await race(30, (i) =>
        store.transaction(async (tx) => {
          const { claimed } = await tx.claimLockReport(key, lockedAt, at(i));
          if (claimed)
            await tx.appendAuditEvent(auditInput({ at: at(i), action: 'mfa_locked', userId: key }));
          return claimed;
        }),
      );
      expect(count(claims)).toBe(1);
      expect(await store.isLockReported(key, lockedAt)).toBe(true);
      expect(await store.listAuditEvents({ userId: key, action: 'mfa_locked', limit: 50 })).toHaveLength(1);
    });

    test('a claim whose transaction rolls back leaves the lock unreported, for the next reporter', async () => {
      const { store } = opened();
      const key = freshKey();
      const lockedAt = at(5).getTime();
      await expect(
        store.transaction(async (tx) => {
          expect(await tx.claimLockReport(key, lockedAt, at(6))).toEqual({ claimed: true });
          throw new Error('the process died before the report committed');
        }),
      ).rejects.toThrow('died');
      expect(await store.isLockReported(key, lockedAt)).toBe(false);
      expect(await store.claimLockReport(key, lockedAt, at(7))).toEqual({ claimed: true });
      expect(await store.claimLockReport(key, lockedAt, at(8))).toEqual({ claimed: false });
    });

    test('a later lock of the same key, and another key, are reported on their own', async () => {
      const { store } = opened();
      const [key, other] = [freshKey(), freshKey()];
      const lockedAt = at(10).getTime();
      expect(await store.claimLockReport(key, lockedAt, at(11))).toEqual({ claimed: true });
      expect(await store.isLockReported(key, lockedAt + 1)).toBe(false);
      expect(await store.isLockReported(other, lockedAt)).toBe(false);
      expect(await store.claimLockReport(key, lockedAt + 1, at(12))).toEqual({ claimed: true });
      expect(await store.claimLockReport(other, lockedAt, at(12))).toEqual({ claimed: true });
    });
  });
}
