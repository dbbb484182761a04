import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { NewOidcClient, NewOidcModelRow } from '../oidc-store.js';
import { at, type MakeStore, useFreshStore } from './fixtures.js';

const HOUR = 60 * 60_000;

const row = (overrides: Partial<NewOidcModelRow> = {}): NewOidcModelRow => ({
  payload: JSON.stringify({ jti: randomUUID() }),
  grantId: null,
  uid: null,
  userCode: null,
  expiresAt: at(HOUR),
  ...overrides,
});

export const newOidcClient = (overrides: Partial<NewOidcClient> = {}): NewOidcClient => ({
  id: `app-${randomUUID()}`,
  name: 'Grafana',
  redirectUris: ['https://grafana.example.test/login/generic_oauth'],
  postLogoutRedirectUris: [],
  kind: 'confidential',
  firstParty: true,
  twoFactorRequired: false,
  scopes: ['openid', 'email'],
  secretHash: 'a'.repeat(64),
  createdAt: at(0),
  ...overrides,
});

export function defineOidcContract(makeStore: MakeStore): void {
  describe('OpenID Connect provider state', () => {
    const opened = useFreshStore(makeStore);

    test('an object is saved, replaced and found by id, uid and user code; destroy removes it', async () => {
      const { store } = opened();
      const id = randomUUID();
      await store.upsertOidcModel('Session', id, row({ uid: 'uid-1', payload: '{"v":1}' }));
      await store.upsertOidcModel('Session', id, row({ uid: 'uid-1', payload: '{"v":2}' }));
      expect(await store.findOidcModel('Session', id)).toEqual({
        payload: '{"v":2}',
        expiresAt: at(HOUR),
        consumedAt: null,
      });
      expect((await store.findOidcModelByUid('Session', 'uid-1'))?.payload).toBe('{"v":2}');
      // Models are separate namespaces: the same id under another model is another object.
      expect(await store.findOidcModel('Grant', id)).toBeUndefined();
      await store.upsertOidcModel('DeviceCode', id, row({ userCode: 'ABCD-EFGH' }));
      expect(await store.findOidcModelByUserCode('DeviceCode', 'ABCD-EFGH')).toBeDefined();
      await store.destroyOidcModel('Session', id);
      expect(await store.findOidcModel('Session', id)).toBeUndefined();
      expect(await store.findOidcModel('DeviceCode', id)).toBeDefined();
    });

    test('of 8 concurrent consumers of one code exactly one wins, and the time is kept', async () => {
      const { store } = opened();
      const id = randomUUID();
      await store.upsertOidcModel('AuthorizationCode', id, row());
      const results = await Promise.all(
        Array.from({ length: 8 }, () => store.consumeOidcModel('AuthorizationCode', id, at(5))),
      );
      expect(results.filter((result) => result.consumed)).toHaveLength(1);
      expect((await store.findOidcModel('AuthorizationCode', id))?.consumedAt).toEqual(at(5));
      expect(await store.consumeOidcModel('AuthorizationCode', randomUUID(), at(5))).toEqual({
        consumed: false,
      });
    });

    test('revoking a grant deletes everything issued under it and nothing else', async () => {
      const { store } = opened();
      const [grantId, otherGrant] = [randomUUID(), randomUUID()];
      const [code, access, refresh, other] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      await store.upsertOidcModel('AuthorizationCode', code, row({ grantId }));
      await store.upsertOidcModel('AccessToken', access, row({ grantId }));
      await store.upsertOidcModel('RefreshToken', refresh, row({ grantId }));
      await store.upsertOidcModel('AccessToken', other, row({ grantId: otherGrant }));
      expect(await store.revokeOidcGrant(grantId)).toBe(3);
      expect(await store.findOidcModel('AccessToken', access)).toBeUndefined();
      expect(await store.findOidcModel('RefreshToken', refresh)).toBeUndefined();
      expect(await store.findOidcModel('AccessToken', other)).toBeDefined();
    });

    test('the purge removes expired objects and keeps live ones and those without an expiry', async () => {
      const { store } = opened();
      const [dead, live, forever] = [randomUUID(), randomUUID(), randomUUID()];
      await store.upsertOidcModel('AccessToken', dead, row({ expiresAt: at(HOUR) }));
      await store.upsertOidcModel('AccessToken', live, row({ expiresAt: at(3 * HOUR) }));
      await store.upsertOidcModel('Client', forever, row({ expiresAt: null }));
      const purged = await store.purgeExpired({
        at: at(2 * HOUR),
        throttleForgetting: [],
        webhookLogRetentionMs: HOUR,
        lockReports: { countersInDatabase: true, retentionMs: HOUR },
      });
      expect(purged.oidcModels).toBeGreaterThanOrEqual(1);
      expect(await store.findOidcModel('AccessToken', dead)).toBeUndefined();
      expect(await store.findOidcModel('AccessToken', live)).toBeDefined();
      expect(await store.findOidcModel('Client', forever)).toBeDefined();
    });

    test('applications: created, listed, changed (secret, disabled) and deleted', async () => {
      const { store } = opened();
      const client = newOidcClient({ kind: 'public', secretHash: null, twoFactorRequired: true });
      await store.createOidcClient(client);
      expect(await store.findOidcClient(client.id)).toEqual({
        ...client,
        updatedAt: at(0),
        disabledAt: null,
      });
      expect((await store.listOidcClients()).map((each) => each.id)).toContain(client.id);
      expect(
        await store.updateOidcClient(
          client.id,
          { secretHash: 'b'.repeat(64), disabledAt: at(7), redirectUris: ['https://x.test/cb'] },
          at(7),
        ),
      ).toEqual({ updated: true });
      const changed = await store.findOidcClient(client.id);
      expect(changed).toMatchObject({
        secretHash: 'b'.repeat(64),
        disabledAt: at(7),
        updatedAt: at(7),
        redirectUris: ['https://x.test/cb'],
        name: client.name,
        twoFactorRequired: true,
        firstParty: true,
      });
      await store.updateOidcClient(client.id, { disabledAt: null }, at(8));
      expect((await store.findOidcClient(client.id))?.disabledAt).toBeNull();
      expect(await store.updateOidcClient('nobody', { name: 'x' }, at(8))).toEqual({ updated: false });
      expect(await store.deleteOidcClient(client.id)).toEqual({ deleted: true });
      expect(await store.deleteOidcClient(client.id)).toEqual({ deleted: false });
      expect(await store.findOidcClient(client.id)).toBeUndefined();
    });

    test('sign-ins per application: 12 concurrent sign-ins all counted, by quarter hour, gone with the application', async () => {
      const { store } = opened();
      const [grafana, gitea] = [newOidcClient(), newOidcClient({ name: 'Gitea' })];
      await store.createOidcClient(grafana);
      await store.createOidcClient(gitea);
      const QUARTER = 15 * 60_000;
      // The UTC quarter hour a time falls in (T0 is not on one).
      const quarterOf = (offsetMs: number) =>
        new Date(at(offsetMs).getTime() - (at(offsetMs).getTime() % QUARTER));
      // Concurrent upserts on separate connections, by one user (one counter row) and by others (spread
      // over the shards, decision 0011): none may be lost, and the statistics are the sum.
      await Promise.all([
        ...Array.from({ length: 6 }, () => store.countOidcSignIn(grafana.id, 'user-same', at(QUARTER + 5))),
        ...Array.from({ length: 6 }, (_, i) =>
          store.countOidcSignIn(grafana.id, `user-${i}`, at(QUARTER + 5)),
        ),
      ]);
      await store.countOidcSignIn(grafana.id, 'user-1', at(2 * QUARTER));
      await store.countOidcSignIn(gitea.id, 'user-1', at(QUARTER + 9));
      const counts = await store.listOidcSignInCounts({ from: at(0), to: at(3 * QUARTER) });
      const mine = counts.filter((row) => row.clientId === grafana.id || row.clientId === gitea.id);
      const first = [
        { clientId: grafana.id, bucketStart: quarterOf(QUARTER), events: 12 },
        { clientId: gitea.id, bucketStart: quarterOf(QUARTER), events: 1 },
      ].sort((a, b) => (a.clientId < b.clientId ? -1 : 1));
      expect(mine).toEqual([
        ...first,
        { clientId: grafana.id, bucketStart: quarterOf(2 * QUARTER), events: 1 },
      ]);
      // `to` is exclusive.
      expect(
        (await store.listOidcSignInCounts({ from: at(0), to: at(2 * QUARTER) })).filter(
          (row) => row.clientId === grafana.id,
        ),
      ).toEqual([{ clientId: grafana.id, bucketStart: quarterOf(QUARTER), events: 12 }]);
      await store.deleteOidcClient(grafana.id);
      const after = await store.listOidcSignInCounts({ from: at(0), to: at(3 * QUARTER) });
      expect(after.some((row) => row.clientId === grafana.id)).toBe(false);
      expect(after.some((row) => row.clientId === gitea.id)).toBe(true);
    });

    test('signing keys: a new key becomes current, the old one stays published until it expires, then is purged', async () => {
      const { store } = opened();
      await store.addOidcSigningKey({ kid: 'k1', sealedJwk: 'sealed-1', createdAt: at(0) }, at(0));
      expect((await store.listOidcSigningKeys(at(1))).map((key) => [key.kid, key.expiresAt])).toEqual([
        ['k1', null],
      ]);
      await store.addOidcSigningKey({ kid: 'k2', sealedJwk: 'sealed-2', createdAt: at(10) }, at(HOUR));
      expect((await store.listOidcSigningKeys(at(11))).map((key) => [key.kid, key.expiresAt])).toEqual([
        ['k2', null],
        ['k1', at(HOUR)],
      ]);
      expect((await store.listOidcSigningKeys(at(HOUR))).map((key) => key.kid)).toEqual(['k2']);
      const purged = await store.purgeExpired({
        at: at(2 * HOUR),
        throttleForgetting: [],
        webhookLogRetentionMs: HOUR,
        lockReports: { countersInDatabase: true, retentionMs: HOUR },
      });
      expect(purged.oidcSigningKeys).toBe(1);
      expect((await store.listOidcSigningKeys(at(0))).map((key) => key.kid)).toEqual(['k2']);
    });

    test('signing keys: the key added last is current and listed first even when its creation time is not the latest', async () => {
      const { store } = opened();
      await store.addOidcSigningKey({ kid: 'order-9', sealedJwk: 'sealed-9', createdAt: at(10) }, at(0));
      // Added later by an instance whose clock is behind, or within the same millisecond with a smaller kid.
      await store.addOidcSigningKey({ kid: 'order-1', sealedJwk: 'sealed-1', createdAt: at(5) }, at(HOUR));
      await store.addOidcSigningKey({ kid: 'order-0', sealedJwk: 'sealed-0', createdAt: at(5) }, at(HOUR));
      expect((await store.listOidcSigningKeys(at(11))).map((key) => [key.kid, key.expiresAt])).toEqual([
        ['order-0', null],
        ['order-9', at(HOUR)],
        ['order-1', at(HOUR)],
      ]);
    });

    test('signing keys: re-sealing is a compare-and-set on the sealed form', async () => {
      const { store } = opened();
      await store.addOidcSigningKey({ kid: 'reseal-1', sealedJwk: 'v1.old', createdAt: at(0) }, at(0));
      expect(await store.replaceSealedOidcSigningKey('reseal-1', 'v1.old', 'v1.new')).toEqual({
        replaced: true,
      });
      // A second rotation that read the old form loses and changes nothing.
      expect(await store.replaceSealedOidcSigningKey('reseal-1', 'v1.old', 'v1.other')).toEqual({
        replaced: false,
      });
      expect(await store.replaceSealedOidcSigningKey('nobody', 'v1.new', 'v1.x')).toEqual({
        replaced: false,
      });
      const keys = await store.listOidcSigningKeys(at(1));
      expect(keys.find((key) => key.kid === 'reseal-1')?.sealedJwk).toBe('v1.new');
    });
  });
}
