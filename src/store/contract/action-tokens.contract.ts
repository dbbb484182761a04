import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { at, count, givenUser, type MakeStore, race, useFreshStore } from './fixtures.js';

const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');

export function defineActionTokenContract(makeStore: MakeStore): void {
  describe('emailed one-time links and passwords', () => {
    const opened = useFreshStore(makeStore);

    async function givenToken(userId: string, purpose: string, expiresInMs = 30 * 60_000) {
      const idHash = hashOf(randomUUID());
      await opened().store.createActionToken({
        idHash,
        purpose,
        userId,
        createdAt: at(0),
        expiresAt: at(expiresInMs),
      });
      return idHash;
    }

    test('a token is live for its purpose until spent once or expired', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const idHash = await givenToken(user.id, 'password_reset');
      expect(await store.findActionToken(idHash, 'password_reset', at(1))).toEqual({ userId: user.id });
      expect(await store.findActionToken(idHash, 'unlock_second_factor', at(1))).toBeUndefined();
      expect(await store.findActionToken(idHash, 'password_reset', at(30 * 60_000))).toBeUndefined();
      expect(await store.consumeActionToken(idHash, 'password_reset', at(2))).toEqual({
        consumed: true,
        userId: user.id,
      });
      expect(await store.consumeActionToken(idHash, 'password_reset', at(3))).toEqual({ consumed: false });
      expect(await store.hasLiveActionToken(user.id, 'password_reset', at(4))).toBe(false);
    });

    test('20 concurrent issuers of a link for one user and purpose create one; a dead one does not count', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const issue = (createdAt: Date, purpose = 'unlock_second_factor') =>
        store
          .transaction((tx) =>
            tx.createActionTokenUnlessLive({
              idHash: hashOf(randomUUID()),
              purpose,
              userId: user.id,
              createdAt,
              expiresAt: new Date(createdAt.getTime() + 30 * 60_000),
            }),
          )
          .then((outcome) => outcome.created);
      expect(count(await race(20, () => issue(at(0))))).toBe(1);
      expect(await issue(at(1), 'password_reset')).toBe(true); // another purpose is another link
      expect(await issue(at(30 * 60_000))).toBe(true); // the first expired: a new one may be issued
      expect(await issue(at(30 * 60_000 + 1))).toBe(false);
      expect(
        await store.transaction((tx) =>
          tx.createActionTokenUnlessLive({
            idHash: hashOf(randomUUID()),
            purpose: 'unlock_second_factor',
            userId: randomUUID(), // no such user
            createdAt: at(0),
            expiresAt: at(60_000),
          }),
        ),
      ).toEqual({ created: false });
    });

    test("revoking kills every live token of that user and purpose, and nobody else's", async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const other = await givenUser(store);
      const first = await givenToken(user.id, 'password_reset');
      const second = await givenToken(user.id, 'password_reset');
      const unlock = await givenToken(user.id, 'unlock_second_factor');
      const others = await givenToken(other.id, 'password_reset');
      expect(await store.revokeActionTokens(user.id, 'password_reset', at(10))).toBe(2);
      expect(await store.findActionToken(first, 'password_reset', at(11))).toBeUndefined();
      expect(await store.consumeActionToken(second, 'password_reset', at(11))).toEqual({ consumed: false });
      expect(await store.findActionToken(unlock, 'unlock_second_factor', at(11))).toEqual({
        userId: user.id,
      });
      expect(await store.findActionToken(others, 'password_reset', at(11))).toEqual({ userId: other.id });
      expect(await store.revokeActionTokens(user.id, 'password_reset', at(12))).toBe(0);
    });

    test('a password hash is replaced for a known user only', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      expect(await store.setPasswordHash(user.id, '$argon2id$new')).toEqual({ updated: true });
      expect((await store.findUserById(user.id))?.passwordHash).toBe('$argon2id$new');
      expect(await store.setPasswordHash(randomUUID(), '$argon2id$x')).toEqual({ updated: false });
    });
  });
}
