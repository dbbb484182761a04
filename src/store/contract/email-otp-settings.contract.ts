import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { NewEmailOtpChallenge } from '../store.js';
import { at, givenUser, type MakeStore, useFreshStore } from './fixtures.js';

export function newChallenge(
  userId: string,
  attemptId: string = randomUUID(),
  createdAt = at(0),
): NewEmailOtpChallenge {
  const id = randomUUID();
  return {
    id,
    userId,
    attemptId,
    digest: `$v1$${id}`,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + 600_000),
  };
}

export function defineEmailOtpAndSettingsContract(makeStore: MakeStore): void {
  describe('email one-time codes', () => {
    const opened = useFreshStore(makeStore);

    test('a stored challenge is found by its sign-in attempt, fresh', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const challenge = newChallenge(user.id);
      await store.replaceEmailOtpChallenge(challenge);
      expect(await store.findEmailOtpChallenge(challenge.attemptId)).toEqual({
        ...challenge,
        attempts: 0,
        consumedAt: null,
      });
      expect(await store.findEmailOtpChallenge(randomUUID())).toBeUndefined();
    });

    test('a resend kills the earlier challenge of the same attempt only', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const first = newChallenge(user.id);
      const otherAttempt = newChallenge(user.id);
      await store.replaceEmailOtpChallenge(first);
      await store.replaceEmailOtpChallenge(otherAttempt);
      const resend = newChallenge(user.id, first.attemptId, at(1000));
      await store.replaceEmailOtpChallenge(resend);
      expect(await store.findEmailOtpChallenge(first.attemptId)).toMatchObject({ id: resend.id });
      expect(await store.chargeEmailOtpAttempt(first.id, 5)).toEqual({ charged: false });
      expect(await store.consumeEmailOtpChallenge(first.id, at(2000))).toEqual({ consumed: false });
      expect(await store.findEmailOtpChallenge(otherAttempt.attemptId)).toMatchObject({
        id: otherAttempt.id,
      });
    });

    test('attempts are charged up to the cap and not beyond', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const challenge = newChallenge(user.id);
      await store.replaceEmailOtpChallenge(challenge);
      for (let i = 0; i < 3; i++)
        expect(await store.chargeEmailOtpAttempt(challenge.id, 3)).toEqual({ charged: true });
      expect(await store.chargeEmailOtpAttempt(challenge.id, 3)).toEqual({ charged: false });
      expect(await store.findEmailOtpChallenge(challenge.attemptId)).toMatchObject({ attempts: 3 });
    });

    test('a challenge is consumed once, and a consumed one cannot be charged', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const challenge = newChallenge(user.id);
      await store.replaceEmailOtpChallenge(challenge);
      expect(await store.consumeEmailOtpChallenge(challenge.id, at(5))).toEqual({ consumed: true });
      expect(await store.consumeEmailOtpChallenge(challenge.id, at(6))).toEqual({ consumed: false });
      expect(await store.chargeEmailOtpAttempt(challenge.id, 5)).toEqual({ charged: false });
      expect(await store.findEmailOtpChallenge(challenge.attemptId)).toMatchObject({ consumedAt: at(5) });
    });
  });

  describe('settings', () => {
    const opened = useFreshStore(makeStore);

    test('JSON values round-trip and a put overwrites', async () => {
      const { store } = opened();
      expect(await store.getSetting('policy')).toBeUndefined();
      const policy = { codeCount: 10, notify: ['email'], nested: { lockoutDurationMs: 900_000 }, off: null };
      await store.putSetting('policy', policy, at(1));
      expect(await store.getSetting('policy')).toEqual(policy);
      for (const value of [42, 'text', false, null, [1, 'two']]) {
        await store.putSetting('policy', value, at(2));
        expect(await store.getSetting('policy')).toEqual(value);
      }
    });

    test('undefined is not a value', async () => {
      const { store } = opened();
      await expect(store.putSetting('nothing', undefined, at(1))).rejects.toThrow(TypeError);
      expect(await store.getSetting('nothing')).toBeUndefined();
    });
  });
}
