import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { at, givenUser, type MakeStore, newCodeSet, T0, useFreshStore } from './fixtures.js';

export function defineRecoveryCodeContract(makeStore: MakeStore): void {
  describe('recovery codes', () => {
    const opened = useFreshStore(makeStore);

    test('a user without a set has no summary, no codes and nothing to delete', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      expect(await store.getRecoveryCodeSummary(user.id)).toBeUndefined();
      expect(await store.findRecoveryCode(user.id, 0)).toBeUndefined();
      expect(await store.deleteRecoveryCodeSet(user.id)).toEqual({ deleted: false });
    });

    test('a new set is complete: every slot findable, unused, all remaining', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const set = newCodeSet(10);
      await store.replaceRecoveryCodeSet(user.id, set);
      expect(await store.getRecoveryCodeSummary(user.id)).toEqual({
        setId: set.id,
        generatedAt: T0,
        total: 10,
        remaining: 10,
        lastUsedAt: null,
      });
      for (const code of set.codes) {
        expect(await store.findRecoveryCode(user.id, code.slot)).toEqual({
          setId: set.id,
          ...code,
          usedAt: null,
        });
      }
      expect(await store.findRecoveryCode(user.id, 10)).toBeUndefined();
    });

    test('a code is consumed once; the summary counts it', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const set = newCodeSet(10);
      await store.replaceRecoveryCodeSet(user.id, set);
      expect(await store.consumeRecoveryCode(set.id, 4, at(1000))).toEqual({
        consumed: true,
        remaining: 9,
        total: 10,
      });
      expect(await store.consumeRecoveryCode(set.id, 4, at(2000))).toEqual({ consumed: false });
      expect(await store.findRecoveryCode(user.id, 4)).toMatchObject({ usedAt: at(1000) });
      expect(await store.consumeRecoveryCode(set.id, 5, at(3000))).toEqual({
        consumed: true,
        remaining: 8,
        total: 10,
      });
      expect(await store.getRecoveryCodeSummary(user.id)).toMatchObject({
        remaining: 8,
        lastUsedAt: at(3000),
      });
    });

    test("a set's slots list each code's slot and time of use, in slot order, for the current set only", async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const other = await givenUser(store);
      expect(await store.listRecoveryCodeSlots(user.id)).toEqual([]);
      const set = newCodeSet(4);
      await store.replaceRecoveryCodeSet(user.id, set);
      await store.replaceRecoveryCodeSet(other.id, newCodeSet(4));
      await store.consumeRecoveryCode(set.id, 3, at(1000));
      await store.consumeRecoveryCode(set.id, 1, at(2000));
      const slots = set.codes.map((code) => code.slot).sort((a, b) => a - b);
      const usedAt = new Map([
        [3, at(1000)],
        [1, at(2000)],
      ]);
      expect(await store.listRecoveryCodeSlots(user.id)).toEqual(
        slots.map((slot) => ({ slot, usedAt: usedAt.get(slot) ?? null })),
      );
      expect((await store.listRecoveryCodeSlots(other.id)).every((code) => code.usedAt === null)).toBe(true);
      // A new set starts unused: the old set's history went with it.
      await store.replaceRecoveryCodeSet(user.id, newCodeSet(4));
      expect((await store.listRecoveryCodeSlots(user.id)).every((code) => code.usedAt === null)).toBe(true);
    });

    test('unknown sets and slots are never consumed and change no count', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const set = newCodeSet(3);
      await store.replaceRecoveryCodeSet(user.id, set);
      expect(await store.consumeRecoveryCode(set.id, 3, at(1))).toEqual({ consumed: false });
      expect(await store.consumeRecoveryCode(randomUUID(), 0, at(1))).toEqual({ consumed: false });
      expect(await store.getRecoveryCodeSummary(user.id)).toMatchObject({ remaining: 3, lastUsedAt: null });
    });

    test('after a replacement no code of the old set is consumable and the new set is whole', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const old = newCodeSet(10);
      await store.replaceRecoveryCodeSet(user.id, old);
      await store.consumeRecoveryCode(old.id, 0, at(1));
      const fresh = newCodeSet(8, at(10));
      await store.replaceRecoveryCodeSet(user.id, fresh);
      expect(await store.consumeRecoveryCode(old.id, 1, at(20))).toEqual({ consumed: false });
      expect(await store.getRecoveryCodeSummary(user.id)).toEqual({
        setId: fresh.id,
        generatedAt: at(10),
        total: 8,
        remaining: 8,
        lastUsedAt: null,
      });
      expect(await store.findRecoveryCode(user.id, 0)).toEqual({
        setId: fresh.id,
        ...fresh.codes[0],
        usedAt: null,
      });
      expect(await store.findRecoveryCode(user.id, 9)).toBeUndefined();
    });

    test("replacing or deleting one user's set leaves other users' sets alone", async () => {
      const { store } = opened();
      const alice = await givenUser(store);
      const bob = await givenUser(store);
      const bobSet = newCodeSet(5);
      await store.replaceRecoveryCodeSet(bob.id, bobSet);
      await store.replaceRecoveryCodeSet(alice.id, newCodeSet(5));
      await store.replaceRecoveryCodeSet(alice.id, newCodeSet(5));
      await store.deleteRecoveryCodeSet(alice.id);
      expect(await store.getRecoveryCodeSummary(bob.id)).toMatchObject({ setId: bobSet.id, remaining: 5 });
      expect(await store.consumeRecoveryCode(bobSet.id, 4, at(1))).toEqual({
        consumed: true,
        remaining: 4,
        total: 5,
      });
    });

    test('deleting the set removes it and every code', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const set = newCodeSet(4);
      await store.replaceRecoveryCodeSet(user.id, set);
      expect(await store.deleteRecoveryCodeSet(user.id)).toEqual({ deleted: true });
      expect(await store.deleteRecoveryCodeSet(user.id)).toEqual({ deleted: false });
      expect(await store.getRecoveryCodeSummary(user.id)).toBeUndefined();
      expect(await store.findRecoveryCode(user.id, 0)).toBeUndefined();
      expect(await store.consumeRecoveryCode(set.id, 0, at(1))).toEqual({ consumed: false });
    });

    test('a set for a user who does not exist is a programming error', async () => {
      const { store } = opened();
      await expect(store.replaceRecoveryCodeSet(randomUUID(), newCodeSet(2))).rejects.toThrow(/no user/);
    });
  });
}
