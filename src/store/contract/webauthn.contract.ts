import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { NewWebauthnChallenge, NewWebauthnCredential, WebauthnCeremony } from '../store.js';
import { at, count, givenUser, type MakeStore, race, useFreshStore } from './fixtures.js';

export function newCredential(userId: string, overrides: Partial<NewWebauthnCredential> = {}) {
  return {
    id: randomUUID(),
    userId,
    credentialId: `cred-${randomUUID()}`,
    publicKey: 'pQECAyYgASFYIP',
    counter: 0,
    transports: ['usb', 'nfc'],
    deviceType: 'singleDevice',
    backedUp: false,
    name: 'YubiKey 5C',
    createdAt: at(0),
    ...overrides,
  } satisfies NewWebauthnCredential;
}

const challengeFor = (
  userId: string | null,
  overrides: Partial<NewWebauthnChallenge> = {},
): NewWebauthnChallenge => ({
  challenge: randomUUID(),
  ceremony: 'second_factor',
  bindingHash: 'session-a',
  userId,
  createdAt: at(0),
  expiresAt: at(5 * 60_000),
  ...overrides,
});

/** Security keys and their challenges (STANDARDS req. 62; W3C WebAuthn L2 6.1.1, 7.1, 7.2). */
export function defineWebauthnContract(makeStore: MakeStore): void {
  describe('security keys (WebAuthn)', () => {
    const opened = useFreshStore(makeStore);

    test('a key is stored with its public key, transports and flags, and counts as a confirmed factor', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const key = newCredential(user.id, { deviceType: 'multiDevice', backedUp: true });
      expect(await store.createWebauthnCredential(key)).toEqual({ created: true });
      const stored = { ...key, transports: ['usb', 'nfc'], lastUsedAt: null };
      expect(await store.listWebauthnCredentials(user.id)).toEqual([stored]);
      expect(await store.findWebauthnCredential(key.credentialId)).toEqual(stored);
      expect(await store.listFactors(user.id)).toEqual([
        {
          id: key.id,
          userId: user.id,
          kind: 'webauthn',
          secretCiphertext: null,
          createdAt: at(0),
          confirmedAt: at(0),
          lastUsedStep: null,
          lastUsedAt: null,
        },
      ]);
    });

    test('a credential id is unique across users, even when two registrations race', async () => {
      const { store } = opened();
      const [first, second] = [await givenUser(store), await givenUser(store)];
      const credentialId = `cred-${randomUUID()}`;
      const results = await race(2, (i) =>
        store.createWebauthnCredential(newCredential(i === 0 ? first.id : second.id, { credentialId })),
      );
      expect(count(results.map((result) => result.created))).toBe(1);
      expect(results.find((result) => !result.created)).toEqual({
        created: false,
        reason: 'credential_taken',
      });
    });

    test('the counter only moves forward; a key without a counter (always 0) keeps working', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const counting = newCredential(user.id, { counter: 5 });
      const zero = newCredential(user.id);
      for (const key of [counting, zero]) await store.createWebauthnCredential(key);
      const use = (id: string, counter: number, ms: number) =>
        store.recordWebauthnUse(id, { counter, backedUp: false, at: at(ms) });
      expect(await use(counting.id, 6, 1)).toEqual({ recorded: true });
      expect(await use(counting.id, 6, 2)).toEqual({ recorded: false });
      expect(await use(counting.id, 3, 3)).toEqual({ recorded: false });
      expect(await use(counting.id, 0, 4)).toEqual({ recorded: false });
      expect(await use(zero.id, 0, 5)).toEqual({ recorded: true });
      expect(await use(zero.id, 0, 6)).toEqual({ recorded: true });
      const keys = await store.listWebauthnCredentials(user.id);
      const [a, b] = [counting, zero].map((key) => keys.find((candidate) => candidate.id === key.id));
      expect([a?.counter, a?.lastUsedAt]).toEqual([6, at(1)]);
      expect([b?.counter, b?.lastUsedAt]).toEqual([0, at(6)]);
      // Ten uses reporting one counter value at once: exactly one is recorded.
      const results = await race(10, () => use(counting.id, 9, 7));
      expect(count(results.map((result) => result.recorded))).toBe(1);
    });

    test("rename and remove touch only the owner's key; removing all factors removes keys too", async () => {
      const { store } = opened();
      const [owner, other] = [await givenUser(store), await givenUser(store)];
      const key = newCredential(owner.id);
      await store.createWebauthnCredential(key);
      expect(await store.renameWebauthnCredential(other.id, key.id, 'Mine now')).toEqual({ renamed: false });
      expect(await store.renameWebauthnCredential(owner.id, key.id, 'Phone')).toEqual({ renamed: true });
      expect((await store.findWebauthnCredential(key.credentialId))?.name).toBe('Phone');
      expect(await store.deleteFactor(other.id, key.id)).toEqual({ removed: false });
      expect(await store.deleteFactor(owner.id, key.id)).toEqual({ removed: true });
      expect(await store.findWebauthnCredential(key.credentialId)).toBeUndefined();
      await store.createWebauthnCredential(newCredential(owner.id));
      await store.createFactor({
        id: randomUUID(),
        userId: owner.id,
        kind: 'email',
        secretCiphertext: null,
        createdAt: at(0),
      });
      expect(await store.deleteAllFactors(owner.id)).toBe(2);
      expect(await store.listWebauthnCredentials(owner.id)).toEqual([]);
    });

    test('factors by kind count keys and their users', async () => {
      const { store } = opened();
      const before = await store.countFactorsByKind();
      const user = await givenUser(store);
      await store.createWebauthnCredential(newCredential(user.id));
      await store.createWebauthnCredential(newCredential(user.id));
      const after = await store.countFactorsByKind();
      const keys = (rows: typeof after) => rows.find((row) => row.kind === 'webauthn');
      expect(after.map((row) => row.kind)).toEqual(['totp', 'email', 'webauthn']);
      expect(keys(after)?.factors).toBe((keys(before)?.factors ?? 0) + 2);
      expect(keys(after)?.users).toBe((keys(before)?.users ?? 0) + 1);
    });

    test('a challenge is spent once, for its own ceremony and binding, before it expires', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const challenge = challengeFor(user.id);
      await store.createWebauthnChallenge(challenge);
      const spend = (ceremony: WebauthnCeremony, bindingHash: string, ms: number) =>
        store.consumeWebauthnChallenge({ challenge: challenge.challenge, ceremony, bindingHash, at: at(ms) });
      expect(await spend('step_up', 'session-a', 1)).toEqual({ consumed: false });
      expect(await spend('second_factor', 'session-b', 1)).toEqual({ consumed: false });
      expect(await spend('second_factor', 'session-a', 1)).toEqual({ consumed: true, userId: user.id });
      expect(await spend('second_factor', 'session-a', 2)).toEqual({ consumed: false });

      const late = challengeFor(null, { ceremony: 'passkey' });
      await store.createWebauthnChallenge(late);
      const spendLate = (ms: number) =>
        store.consumeWebauthnChallenge({
          challenge: late.challenge,
          ceremony: 'passkey',
          bindingHash: 'session-a',
          at: at(ms),
        });
      expect(await spendLate(5 * 60_000)).toEqual({ consumed: false });
      const unknown = {
        challenge: 'nope',
        ceremony: 'passkey' as const,
        bindingHash: 'session-a',
        at: at(1),
      };
      expect(await store.consumeWebauthnChallenge(unknown)).toEqual({ consumed: false });
    });

    test('two concurrent uses of one challenge: exactly one wins (and 20 at once: one)', async () => {
      const { store } = opened();
      for (const racers of [2, 20]) {
        const challenge = challengeFor(null, { ceremony: 'passkey' });
        await store.createWebauthnChallenge(challenge);
        const results = await race(racers, (i) =>
          store.consumeWebauthnChallenge({
            challenge: challenge.challenge,
            ceremony: 'passkey',
            bindingHash: 'session-a',
            at: at(i),
          }),
        );
        expect(results.filter((result) => result.consumed)).toEqual([{ consumed: true, userId: null }]);
      }
    });

    test('expired challenges are purged; live ones stay', async () => {
      const { store } = opened();
      const dead = challengeFor(null, { expiresAt: at(60_000) });
      const live = challengeFor(null, { expiresAt: at(10 * 60_000) });
      for (const challenge of [dead, live]) await store.createWebauthnChallenge(challenge);
      const purged = await store.purgeExpired({
        at: at(2 * 60_000),
        throttleForgetting: [],
        webhookLogRetentionMs: 1000,
        lockReports: { countersInDatabase: true, retentionMs: 1000 },
      });
      expect(purged.webauthnChallenges).toBeGreaterThanOrEqual(1);
      const spend = (challenge: NewWebauthnChallenge) =>
        store.consumeWebauthnChallenge({ ...challenge, at: at(2 * 60_000) });
      expect(await spend(live)).toEqual({ consumed: true, userId: null });
      expect(await spend(dead)).toEqual({ consumed: false });
    });
  });
}
