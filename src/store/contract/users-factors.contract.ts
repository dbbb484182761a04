import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { NewFactor } from '../store.js';
import { at, auditInput, givenUser, type MakeStore, newUser, T0, useFreshStore } from './fixtures.js';

export function defineUserAndFactorContract(makeStore: MakeStore): void {
  describe('users', () => {
    const opened = useFreshStore(makeStore);

    test('finds a created user by id and by email in any letter case', async () => {
      const { store } = opened();
      const user = await givenUser(store, { roles: ['support', 'admin'] });
      const expected = { ...user, roles: ['admin', 'support'] };
      expect(await store.findUserById(user.id)).toEqual(expected);
      expect(await store.findUserByEmail(user.email.toUpperCase())).toEqual(expected);
      expect(await store.findUserByEmail(user.email.toLowerCase())).toEqual(expected);
    });

    test('unknown users are undefined', async () => {
      const { store } = opened();
      expect(await store.findUserById(randomUUID())).toBeUndefined();
      expect(await store.findUserByEmail('nobody@example.test')).toBeUndefined();
    });

    test('refuses an email that differs only in case, keeping the first account intact', async () => {
      const { store } = opened();
      const first = await givenUser(store, { roles: ['admin'] });
      const second = newUser({ email: first.email.toUpperCase(), roles: ['auditor'] });
      expect(await store.createUser(second)).toEqual({ created: false, reason: 'email_taken' });
      expect(await store.findUserById(second.id)).toBeUndefined();
      expect(await store.findUserByEmail(first.email)).toMatchObject({ id: first.id, roles: ['admin'] });
    });

    test('a refused email leaves the caller transaction usable (it can still audit the refusal)', async () => {
      const { store } = opened();
      const first = await givenUser(store);
      const userId = randomUUID();
      const result = await store.transaction(async (tx) => {
        const created = await tx.createUser(newUser({ id: userId, email: first.email }));
        await tx.appendAuditEvent(auditInput({ action: 'user_created', outcome: 'failure', userId }));
        return created;
      });
      expect(result).toEqual({ created: false, reason: 'email_taken' });
      expect(await store.listAuditEvents({ userId, limit: 5 })).toHaveLength(1);
    });

    test('setUserRoles replaces the whole list', async () => {
      const { store } = opened();
      const user = await givenUser(store, { roles: ['admin'] });
      await store.setUserRoles(user.id, ['support', 'auditor', 'support']);
      expect((await store.findUserById(user.id))?.roles).toEqual(['auditor', 'support']);
      await store.setUserRoles(user.id, []);
      expect((await store.findUserById(user.id))?.roles).toEqual([]);
    });
  });

  describe('second factors', () => {
    const opened = useFreshStore(makeStore);
    const totp = (userId: string, createdAt = T0): NewFactor => ({
      id: randomUUID(),
      userId,
      kind: 'totp',
      secretCiphertext: 'v1.sealed-seed',
      createdAt,
    });

    test('a factor is pending until confirmed, and is confirmed once', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const factor = totp(user.id);
      await store.createFactor(factor);
      const pending = { ...factor, confirmedAt: null, lastUsedStep: null, lastUsedAt: null };
      expect(await store.findFactor(user.id, factor.id)).toEqual(pending);
      expect(await store.confirmFactor(user.id, factor.id, at(1000))).toEqual({ confirmed: true });
      expect(await store.confirmFactor(user.id, factor.id, at(2000))).toEqual({ confirmed: false });
      expect(await store.findFactor(user.id, factor.id)).toEqual({ ...pending, confirmedAt: at(1000) });
    });

    test("another user's factor is invisible to lookups, confirmation and deletion", async () => {
      const { store } = opened();
      const owner = await givenUser(store);
      const other = await givenUser(store);
      const factor = totp(owner.id);
      await store.createFactor(factor);
      expect(await store.findFactor(other.id, factor.id)).toBeUndefined();
      expect(await store.confirmFactor(other.id, factor.id, at(1))).toEqual({ confirmed: false });
      expect(await store.deleteFactor(other.id, factor.id)).toEqual({ removed: false });
      expect(await store.findFactor(owner.id, factor.id)).toMatchObject({ confirmedAt: null });
    });

    test('lists, deletes one, and deletes all factors of a user', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const first = totp(user.id, at(1));
      const email: NewFactor = {
        id: randomUUID(),
        userId: user.id,
        kind: 'email',
        secretCiphertext: null,
        createdAt: at(2),
      };
      const third = totp(user.id, at(3));
      for (const factor of [third, first, email]) await store.createFactor(factor);
      expect((await store.listFactors(user.id)).map((f) => f.id)).toEqual([first.id, email.id, third.id]);
      expect(await store.deleteFactor(user.id, email.id)).toEqual({ removed: true });
      expect(await store.deleteFactor(user.id, email.id)).toEqual({ removed: false });
      expect(await store.deleteAllFactors(user.id)).toBe(2);
      expect(await store.listFactors(user.id)).toEqual([]);
      expect(await store.deleteAllFactors(user.id)).toBe(0);
    });

    test('TOTP steps are accepted only when greater than the last, and never on a pending factor', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const factor = totp(user.id);
      await store.createFactor(factor);
      expect(await store.recordTotpStep(factor.id, 100, at(1))).toEqual({ recorded: false });
      await store.confirmFactor(user.id, factor.id, at(2));
      expect(await store.recordTotpStep(factor.id, 100, at(3))).toEqual({ recorded: true });
      expect(await store.recordTotpStep(factor.id, 100, at(4))).toEqual({ recorded: false });
      expect(await store.recordTotpStep(factor.id, 99, at(5))).toEqual({ recorded: false });
      expect(await store.recordTotpStep(factor.id, 101, at(6))).toEqual({ recorded: true });
      expect(await store.findFactor(user.id, factor.id)).toMatchObject({
        lastUsedStep: 101,
        lastUsedAt: at(6),
      });
    });

    test('lists sealed seeds page by page and replaces one only while it holds the expected value', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const factors = [totp(user.id), totp(user.id), totp(user.id)];
      for (const factor of factors) await store.createFactor(factor);
      await store.createFactor({ ...totp(user.id), kind: 'email', secretCiphertext: null });
      const ids = factors.map((factor) => factor.id).sort();
      const email = (await store.listFactors(user.id)).find((factor) => factor.kind === 'email');
      const listed: { factorId: string; secretCiphertext: string }[] = [];
      for (let page = await store.listSealedSecrets(null, 2); page.length > 0; ) {
        listed.push(...page);
        page = page.length < 2 ? [] : await store.listSealedSecrets(page.at(-1)!.factorId, 2);
      }
      const listedIds = listed.map((row) => row.factorId);
      expect(listedIds).toEqual([...listedIds].sort());
      expect(listedIds.filter((id) => ids.includes(id))).toEqual(ids);
      expect(listedIds).not.toContain(email?.id);
      expect(listed.find((row) => row.factorId === ids[2])?.secretCiphertext).toBe('v1.sealed-seed');

      expect(await store.replaceSealedSecret(ids[0]!, 'v1.sealed-seed', 'v1.resealed')).toEqual({
        replaced: true,
      });
      expect(await store.replaceSealedSecret(ids[0]!, 'v1.sealed-seed', 'v1.other')).toEqual({
        replaced: false,
      });
      expect((await store.findFactor(user.id, ids[0]!))?.secretCiphertext).toBe('v1.resealed');
    });
  });
}
