import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { AUDIT_GENESIS_HASH } from '../../core/audit.js';
import { newChallenge } from './email-otp-settings.contract.js';
import {
  allAuditEvents,
  at,
  auditInput,
  count,
  expectChainVerifies,
  givenUser,
  type MakeStore,
  newCodeSet,
  newUser,
  race,
  useFreshStore,
} from './fixtures.js';
import { expectOneCompleteSet } from './set-invariants.js';

/**
 * Races behind a start barrier. On PostgreSQL the store's pool runs them on parallel connections; on
 * SQLite one process serializes them on its single connection (the cross-process races live in
 * test/store/sqlite-race.test.ts).
 */
export function defineConcurrencyContract(makeStore: MakeStore): void {
  describe('concurrency', () => {
    const opened = useFreshStore(makeStore);

    test('50 concurrent consumers of one code: exactly one wins, remaining drops by exactly one', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const set = newCodeSet(10);
      await store.replaceRecoveryCodeSet(user.id, set);
      const results = await race(50, (i) => store.consumeRecoveryCode(set.id, 7, at(i)));
      expect(count(results.map((result) => result.consumed))).toBe(1);
      expect(await store.getRecoveryCodeSummary(user.id)).toMatchObject({ remaining: 9 });
    });

    test('two different codes used at once both count (no resurrected code)', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const set = newCodeSet(10);
      await store.replaceRecoveryCodeSet(user.id, set);
      const results = await race(2, (i) => store.consumeRecoveryCode(set.id, i, at(i)));
      expect(results.map((result) => result.consumed)).toEqual([true, true]);
      // Each winner saw the other's use or not, never a lost update: between them they report 9 and 8.
      expect(results.map((result) => result.consumed && result.remaining).sort()).toEqual([8, 9]);
      expect(await store.getRecoveryCodeSummary(user.id)).toMatchObject({ remaining: 8 });
      for (const slot of [0, 1]) expect((await store.findRecoveryCode(user.id, slot))?.usedAt).not.toBeNull();
    });

    test('every code used three times at once: one winner per code, none remaining', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const set = newCodeSet(10);
      await store.replaceRecoveryCodeSet(user.id, set);
      const results = await race(30, (i) => store.consumeRecoveryCode(set.id, i % 10, at(i)));
      for (let slot = 0; slot < 10; slot++) {
        expect(count(results.filter((_, i) => i % 10 === slot).map((result) => result.consumed))).toBe(1);
      }
      expect(await store.getRecoveryCodeSummary(user.id)).toMatchObject({ remaining: 0 });
    });

    test('20 concurrent regenerations for one user leave exactly one complete set', async () => {
      const { store, db } = opened();
      const user = await givenUser(store);
      await store.replaceRecoveryCodeSet(user.id, newCodeSet(10));
      const sets = Array.from({ length: 20 }, () => newCodeSet(10));
      await race(20, (i) => store.replaceRecoveryCodeSet(user.id, sets[i]!));
      await expectOneCompleteSet(db, store, user.id, sets);
    });

    test('consumes racing regenerations never touch the new set and do not deadlock', async () => {
      const { store, db } = opened();
      const user = await givenUser(store);
      const old = newCodeSet(10);
      await store.replaceRecoveryCodeSet(user.id, old);
      const fresh = Array.from({ length: 5 }, () => newCodeSet(10));
      await race(25, (i) =>
        i < 5
          ? store.transaction(async (tx) => {
              await tx.replaceRecoveryCodeSet(user.id, fresh[i]!);
              await tx.appendAuditEvent(
                auditInput({ action: 'recovery_codes_regenerated', userId: user.id }),
              );
            })
          : store.transaction(async (tx) => {
              await tx.consumeRecoveryCode(old.id, i % 10, at(i));
              await tx.appendAuditEvent(auditInput({ userId: user.id }));
            }),
      );
      await expectOneCompleteSet(db, store, user.id, fresh);
      expectChainVerifies(await allAuditEvents(store));
    });

    test('a consume that rotates the set, racing regenerations, never deadlocks (the rotate policy)', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const old = newCodeSet(10);
      await store.replaceRecoveryCodeSet(user.id, old);
      const replacements = Array.from({ length: 20 }, () => newCodeSet(10));
      // Even i: consume one code of the old set and, in the same transaction, replace the set (as the
      // rotate policy does). Odd i: a plain regeneration. Both must take the user's lock first.
      await race(20, (i) =>
        store.transaction(async (tx) => {
          if (i % 2 === 0 && !(await tx.consumeRecoveryCode(old.id, i / 2, at(i))).consumed) return;
          await tx.replaceRecoveryCodeSet(user.id, replacements[i]!);
          await tx.appendAuditEvent(auditInput({ action: 'recovery_codes_regenerated', userId: user.id }));
        }),
      );
      const live = await store.getRecoveryCodeSummary(user.id);
      expect(live).toMatchObject({ total: 10, remaining: 10 });
      expect(replacements.map((set) => set.id)).toContain(live!.setId);
      expectChainVerifies(await allAuditEvents(store));
    });

    test('50 concurrent acceptances of one TOTP step: exactly one recorded', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const factorId = randomUUID();
      await store.createFactor({
        id: factorId,
        userId: user.id,
        kind: 'totp',
        secretCiphertext: 'x',
        createdAt: at(0),
      });
      await store.confirmFactor(user.id, factorId, at(1));
      const results = await race(50, (i) => store.recordTotpStep(factorId, 59_000_000, at(i)));
      expect(count(results.map((result) => result.recorded))).toBe(1);
    });

    test('30 concurrent email-code guesses with a cap of 5: exactly 5 charged', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const challenge = newChallenge(user.id);
      await store.replaceEmailOtpChallenge(challenge);
      const results = await race(30, () => store.chargeEmailOtpAttempt(challenge.id, 5));
      expect(count(results.map((result) => result.charged))).toBe(5);
      expect(await store.findEmailOtpChallenge(challenge.attemptId)).toMatchObject({ attempts: 5 });
      const consumes = await race(20, (i) => store.consumeEmailOtpChallenge(challenge.id, at(i)));
      expect(count(consumes.map((result) => result.consumed))).toBe(1);
    });

    test('20 concurrent resends for one sign-in attempt leave exactly one live challenge', async () => {
      const { store, db } = opened();
      const user = await givenUser(store);
      const attemptId = randomUUID();
      await race(20, (i) => store.replaceEmailOtpChallenge(newChallenge(user.id, attemptId, at(i))));
      const rows = await db
        .selectFrom('email_otp_challenges')
        .select('id')
        .where('attempt_id', '=', attemptId)
        .execute();
      expect(rows).toHaveLength(1);
    });

    test('20 concurrent sign-ups with one address in different cases: exactly one account', async () => {
      const { store } = opened();
      const email = `race-${randomUUID()}@example.test`;
      const results = await race(20, (i) =>
        store.createUser(newUser({ email: i % 2 ? email.toUpperCase() : email })),
      );
      expect(count(results.map((result) => result.created))).toBe(1);
    });
  });

  describe('concurrent audit appends', () => {
    // A store of its own, so the race can expect seqs 1..40 exactly.
    const opened = useFreshStore(makeStore);

    test('40 concurrent audit appends: seqs 1..40 without gaps, and the chain verifies', async () => {
      const { store } = opened();
      await race(40, (i) => store.appendAuditEvent(auditInput({ action: 'sign_in', details: { i } })));
      const events = (await allAuditEvents(store)).filter((event) => event.action === 'sign_in');
      expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expectChainVerifies(events, AUDIT_GENESIS_HASH);
    });
  });
}
