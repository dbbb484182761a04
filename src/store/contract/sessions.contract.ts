import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { NewSession } from '../store.js';
import { at, givenUser, type MakeStore, useFreshStore } from './fixtures.js';

export function newSession(userId: string, overrides: Partial<NewSession> = {}): NewSession {
  return {
    idHash: randomUUID().replaceAll('-', ''),
    userId,
    stage: 'second_factor',
    attemptId: randomUUID(),
    createdAt: at(0),
    lastSeenAt: at(0),
    expiresAt: at(600_000),
    ip: '192.0.2.7',
    userAgent: 'Contract/1.0',
    signInMethod: 'password',
    ...overrides,
  };
}

export function defineSessionContract(makeStore: MakeStore): void {
  describe('sessions and one-time claims', () => {
    const opened = useFreshStore(makeStore);

    test('a created session comes back as stored; an unknown id finds nothing', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const session = newSession(user.id);
      await store.createSession(session);
      expect(await store.findSession(session.idHash)).toEqual(session);
      expect(await store.findSession('nope')).toBeUndefined();
    });

    test('a session with its user and roles in one read: the same records as findSession and findUserById', async () => {
      const { store } = opened();
      const user = await givenUser(store, { roles: ['subscriber', 'editor', 'admin'] });
      const session = newSession(user.id, { stage: 'signed_in' });
      await store.createSession(session);
      const found = await store.findSessionWithUser(session.idHash);
      expect(found).toEqual({ session, user: await store.findUserById(user.id) });
      expect(found?.user.roles).toEqual(['admin', 'editor', 'subscriber']);
      // A user without roles still comes back (the roles are an outer join), and a role removed is gone
      // on the next read.
      await store.setUserRoles(user.id, []);
      expect((await store.findSessionWithUser(session.idHash))?.user.roles).toEqual([]);
      await store.setUserRoles(user.id, ['subscriber']);
      expect((await store.findSessionWithUser(session.idHash))?.user.roles).toEqual(['subscriber']);
      expect(await store.findSessionWithUser('nope')).toBeUndefined();
      await store.deleteSession(session.idHash);
      expect(await store.findSessionWithUser(session.idHash)).toBeUndefined();
    });

    test('rotation replaces the session; the old id is dead', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const first = newSession(user.id);
      await store.createSession(first);
      // The sign-in method travels with the rotation that completes the second factor.
      const next = newSession(user.id, {
        stage: 'signed_in',
        attemptId: first.attemptId,
        signInMethod: 'totp',
      });
      expect(await store.replaceSession(first.idHash, next)).toEqual({ replaced: true });
      expect(await store.findSession(first.idHash)).toBeUndefined();
      expect(await store.findSession(next.idHash)).toEqual(next);
      // A second rotation of the dead id creates nothing.
      const late = newSession(user.id);
      expect(await store.replaceSession(first.idHash, late)).toEqual({ replaced: false });
      expect(await store.findSession(late.idHash)).toBeUndefined();
    });

    test('of 20 concurrent rotations of one session exactly one creates a successor', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const first = newSession(user.id);
      await store.createSession(first);
      const successors = Array.from({ length: 20 }, () => newSession(user.id, { stage: 'signed_in' }));
      const results = await Promise.all(successors.map((next) => store.replaceSession(first.idHash, next)));
      expect(results.filter((result) => result.replaced)).toHaveLength(1);
      const alive = await Promise.all(successors.map((next) => store.findSession(next.idHash)));
      expect(alive.filter(Boolean)).toHaveLength(1);
    });

    test('touch slides the deadlines; delete and delete-others end sessions', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const [a, b, c] = [newSession(user.id), newSession(user.id), newSession(user.id)];
      for (const session of [a, b, c]) await store.createSession(session);
      await store.touchSession(a.idHash, at(1000), at(2_000_000));
      expect(await store.findSession(a.idHash)).toMatchObject({
        lastSeenAt: at(1000),
        expiresAt: at(2_000_000),
      });
      expect(await store.deleteSession(b.idHash)).toEqual({ deleted: true });
      expect(await store.deleteSession(b.idHash)).toEqual({ deleted: false });
      expect(await store.deleteUserSessions(user.id, a.idHash)).toBe(1);
      expect(await store.findSession(a.idHash)).toBeDefined();
      expect(await store.findSession(c.idHash)).toBeUndefined();
    });

    test('expired sessions are swept; live ones stay', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const old = newSession(user.id, { expiresAt: at(10) });
      const live = newSession(user.id, { expiresAt: at(10_000_000) });
      await store.createSession(old);
      await store.createSession(live);
      expect(await store.deleteExpiredSessions(at(10))).toBeGreaterThanOrEqual(1);
      expect(await store.findSession(old.idHash)).toBeUndefined();
      expect(await store.findSession(live.idHash)).toBeDefined();
    });

    test('a setting is claimed once, even by 20 concurrent claimants; users are counted', async () => {
      const { store } = opened();
      const key = `claim-${randomUUID()}`;
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.claimSetting(key, { by: i }, at(0))),
      );
      expect(results.filter((result) => result.claimed)).toHaveLength(1);
      const winner = results.findIndex((result) => result.claimed);
      expect(await store.getSetting(key)).toEqual({ by: winner });
      const before = await store.countUsers();
      await givenUser(store);
      expect(await store.countUsers()).toBe(before + 1);
    });
  });
}
