import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  at,
  auditInput,
  count,
  givenUser,
  type MakeStore,
  newCodeSet,
  race,
  T0,
  useFreshStore,
} from './fixtures.js';

/** Users of a host application: addressed by the host's id, email optional, changed and deleted whole. */
export function defineHostUserContract(makeStore: MakeStore): void {
  describe('host users (external id)', () => {
    const opened = useFreshStore(makeStore);

    test('a user with an external id and no email is found by that id and by its own; many may lack an email', async () => {
      const { store } = opened();
      const externalId = `host-${randomUUID()}`;
      const user = await givenUser(store, { email: null, externalId, passwordHash: null });
      const expected = { id: user.id, email: null, externalId, passwordHash: null, roles: [], createdAt: T0 };
      expect(await store.findUserByExternalId(externalId)).toEqual(expected);
      expect(await store.findUserById(user.id)).toEqual(expected);
      expect(await store.findUserByExternalId(externalId.toUpperCase())).toBeUndefined();
      expect(await store.findUserId({ externalId })).toBe(user.id);
      expect(await store.findUserId({ userId: user.id })).toBe(user.id);
      expect(await store.findUserId({ externalId: externalId.toUpperCase() })).toBeUndefined();
      expect(await store.findUserId({ userId: randomUUID() })).toBeUndefined();
      await givenUser(store, { email: null, externalId: `${externalId}-2`, passwordHash: null });
      // SpareKey's own accounts carry no external id.
      const own = await givenUser(store);
      expect(await store.findUserById(own.id)).not.toHaveProperty('externalId');
    });

    test('an external id is unique: concurrent creators of one id, exactly one wins; the others learn why', async () => {
      const { store } = opened();
      const externalId = `race-${randomUUID()}`;
      const results = await race(8, () =>
        store.createUser({
          id: randomUUID(),
          email: null,
          externalId,
          passwordHash: null,
          roles: [],
          createdAt: T0,
        }),
      );
      expect(count(results.map((result) => result.created))).toBe(1);
      for (const result of results.filter((r) => !r.created))
        expect(result).toEqual({ created: false, reason: 'external_id_taken' });
      const taken = await givenUser(store);
      expect(
        await store.createUser({
          id: randomUUID(),
          email: taken.email.toUpperCase(),
          externalId: `other-${randomUUID()}`,
          passwordHash: null,
          roles: [],
          createdAt: T0,
        }),
      ).toEqual({ created: false, reason: 'email_taken' });
    });

    test('setUserEmail sets, refuses a taken address in any case, removes with null; unknown users are said so', async () => {
      const { store } = opened();
      const user = await givenUser(store, {
        email: null,
        externalId: `e-${randomUUID()}`,
        passwordHash: null,
      });
      const other = await givenUser(store);
      const address = `New-${randomUUID()}@Example.test`;
      expect(await store.setUserEmail(user.id, address)).toEqual({ updated: true });
      expect((await store.findUserByEmail(address.toLowerCase()))?.id).toBe(user.id);
      expect(await store.setUserEmail(user.id, other.email.toLowerCase())).toEqual({
        updated: false,
        reason: 'email_taken',
      });
      expect(await store.setUserEmail(user.id, null)).toEqual({ updated: true });
      expect(await store.findUserByEmail(address)).toBeUndefined();
      expect((await store.findUserById(user.id))?.email).toBeNull();
      expect(await store.setUserEmail(randomUUID(), address)).toEqual({
        updated: false,
        reason: 'user_not_found',
      });
    });

    test('two users taking one address at once: exactly one gets it, and both transactions stay usable', async () => {
      const { store } = opened();
      const users = await Promise.all(
        Array.from({ length: 6 }, () =>
          givenUser(store, { email: null, externalId: randomUUID(), passwordHash: null }),
        ),
      );
      const address = `shared-${randomUUID()}@example.test`;
      const results = await race(users.length, (index) =>
        store.transaction(async (tx) => {
          const userId = (users[index] as { id: string }).id;
          const result = await tx.setUserEmail(userId, address);
          // The caller goes on in the same transaction (it audits the outcome).
          await tx.appendAuditEvent(
            auditInput({ action: 'email_changed', userId, outcome: result.updated ? 'success' : 'failure' }),
          );
          return result;
        }),
      );
      expect(count(results.map((result) => result.updated))).toBe(1);
      const winner = users[results.findIndex((result) => result.updated)] as { id: string };
      expect((await store.findUserByEmail(address))?.id).toBe(winner.id);
    });

    test('deleteUser removes the user with their factors, codes, sessions, remembered browsers and keys; the audit log stays', async () => {
      const { store } = opened();
      const user = await givenUser(store, {
        email: null,
        externalId: `d-${randomUUID()}`,
        passwordHash: null,
      });
      const bystander = await givenUser(store);
      for (const owner of [user, bystander]) {
        await store.createFactor({
          id: randomUUID(),
          userId: owner.id,
          kind: 'email',
          secretCiphertext: null,
          createdAt: T0,
        });
        await store.replaceRecoveryCodeSet(owner.id, newCodeSet(3));
        await store.createSession({
          idHash: randomUUID(),
          userId: owner.id,
          stage: 'signed_in',
          attemptId: randomUUID(),
          createdAt: T0,
          lastSeenAt: T0,
          expiresAt: at(60_000),
          ip: null,
          userAgent: null,
        });
        await store.rememberDevice({
          id: randomUUID(),
          tokenHash: randomUUID(),
          userId: owner.id,
          label: 'Firefox on Linux',
          ip: null,
          createdAt: T0,
          expiresAt: at(60_000),
        });
        await store.createApiKey({
          id: randomUUID().slice(0, 12),
          name: 'theirs',
          secretHash: 'ab'.repeat(32),
          scopes: ['mfa:read'],
          createdAt: T0,
          createdBy: owner.id,
        });
      }
      await store.appendAuditEvent(auditInput({ action: 'mfa_enabled', userId: user.id }));

      expect(await store.deleteUser(user.id)).toEqual({
        deleted: true,
        removed: { factors: 1, recoveryCodeSets: 1, sessions: 1, rememberedDevices: 1, apiKeys: 1 },
      });
      expect(await store.findUserById(user.id)).toBeUndefined();
      expect(await store.findUserByExternalId(user.externalId as string)).toBeUndefined();
      expect(await store.listFactors(user.id)).toEqual([]);
      expect(await store.getRecoveryCodeSummary(user.id)).toBeUndefined();
      expect(await store.listRememberedDevices(user.id, T0)).toEqual([]);
      expect((await store.listApiKeys()).filter((key) => key.createdBy === user.id)).toEqual([]);
      expect((await store.listAuditEvents({ userId: user.id, limit: 10 })).map((e) => e.action)).toEqual([
        'mfa_enabled',
      ]);
      // Nothing of anyone else went with them.
      expect(await store.listFactors(bystander.id)).toHaveLength(1);
      expect(await store.getRecoveryCodeSummary(bystander.id)).toBeDefined();
      expect(await store.listRememberedDevices(bystander.id, T0)).toHaveLength(1);
      expect((await store.listApiKeys()).filter((key) => key.createdBy === bystander.id)).toHaveLength(1);
      expect(await store.deleteUser(user.id)).toEqual({ deleted: false, reason: 'user_not_found' });
    });
  });
}
