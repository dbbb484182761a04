import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { Store } from '../store.js';
import {
  at,
  auditInput,
  expectChainVerifies,
  givenUser,
  type MakeStore,
  newCodeSet,
  race,
  sealAll,
  T0,
  useFreshStore,
} from './fixtures.js';

/** Ground truth for the maintained counters: count the sets themselves. */
async function setCountsFromSets(store: Store, userIds: string[]): Promise<Map<number, number>> {
  const truth = new Map<number, number>();
  for (const userId of userIds) {
    const summary = await store.getRecoveryCodeSummary(userId);
    if (summary) truth.set(summary.remaining, (truth.get(summary.remaining) ?? 0) + 1);
  }
  return truth;
}

async function countersAsMap(store: Store): Promise<Map<number, number>> {
  return new Map((await store.getRecoveryCodeSetCounts()).map((row) => [row.remaining, row.sets]));
}

export function defineAdminContract(makeStore: MakeStore): void {
  describe('operator console queries', () => {
    const opened = useFreshStore(makeStore);

    test('set counters stay exact through replace, consume, delete and concurrent use', async () => {
      const { store } = opened();
      const before = await countersAsMap(store);
      const users = await Promise.all(Array.from({ length: 6 }, () => givenUser(store)));
      const ids = users.map((user) => user.id);
      const sets = await Promise.all(
        ids.map(async (id, i) => {
          const set = newCodeSet(5 + i);
          await store.replaceRecoveryCodeSet(id, set);
          return set;
        }),
      );
      // Concurrent consumes of different and identical codes, a replacement and a deletion.
      await race(12, (i) => store.consumeRecoveryCode((sets[i % 3] as { id: string }).id, i % 4, at(i)));
      await store.replaceRecoveryCodeSet(ids[3] as string, newCodeSet(10));
      await store.deleteRecoveryCodeSet(ids[4] as string);
      const truth = await setCountsFromSets(store, ids);
      const counters = await countersAsMap(store);
      for (const [remaining, sets] of truth) {
        expect(counters.get(remaining), `remaining=${remaining}`).toBe((before.get(remaining) ?? 0) + sets);
      }
    });

    test('a deleted user takes its set out of the counters (no cascade leaves it counted)', async () => {
      const { store } = opened();
      const before = await countersAsMap(store);
      const user = await givenUser(store);
      const set = newCodeSet(7);
      await store.replaceRecoveryCodeSet(user.id, set);
      await store.consumeRecoveryCode(set.id, 0, at(1));
      expect((await countersAsMap(store)).get(6)).toBe((before.get(6) ?? 0) + 1);
      expect(await store.deleteUser(user.id)).toMatchObject({
        deleted: true,
        removed: { recoveryCodeSets: 1 },
      });
      expect(await countersAsMap(store)).toEqual(before);
    });

    test('sets spread over many counter rows still sum to one exact count per remaining value', async () => {
      const { store } = opened();
      const before = await countersAsMap(store);
      // 40 owners land in many different shards; their sets all hold 3, then two of them are spent at once.
      const users = await Promise.all(Array.from({ length: 40 }, () => givenUser(store)));
      const sets = await Promise.all(
        users.map(async (user) => {
          const set = newCodeSet(3);
          await store.replaceRecoveryCodeSet(user.id, set);
          return set;
        }),
      );
      await race(40, (i) => store.consumeRecoveryCode((sets[i % 2] as { id: string }).id, i % 3, at(i)));
      const counters = await countersAsMap(store);
      expect(counters.get(3)).toBe((before.get(3) ?? 0) + 38);
      expect(counters.get(0)).toBe((before.get(0) ?? 0) + 2);
      // Each remaining value is listed once, in ascending order.
      const listed = (await store.getRecoveryCodeSetCounts()).map((row) => row.remaining);
      expect(listed).toEqual([...new Set(listed)].sort((a, b) => a - b));
    });

    test('audit events are counted per action per quarter hour, exactly', async () => {
      const { store } = opened();
      const action = 'recovery_code_failed';
      const base = T0.getTime() + 7 * 24 * 3600_000;
      const before = await store.countAuditEventsByBucket({
        actions: [action],
        from: new Date(base),
        to: new Date(base + 3600_000),
      });
      expect(before).toEqual([]);
      await race(10, (i) =>
        store.appendAuditEvent(auditInput({ action, at: new Date(base + i * 5 * 60_000) })),
      );
      const rows = await store.countAuditEventsByBucket({
        actions: [action],
        from: new Date(base),
        to: new Date(base + 3600_000),
      });
      // Minutes 0-45 of the hour: 3 events per quarter hour for the first three quarters, one in the last.
      expect(rows.map((row) => row.events)).toEqual([3, 3, 3, 1]);
      expect(rows.every((row) => row.action === action)).toBe(true);
    });

    test('ascending listing, the chain head, and a purge that keeps the rest verifiable', async () => {
      const { store } = opened();
      const base = T0.getTime() + 30 * 24 * 3600_000;
      for (let i = 0; i < 6; i += 1)
        await store.appendAuditEvent(auditInput({ at: new Date(base + i * 1000) }));
      await sealAll(store);
      const head = await store.getAuditChainHead();
      const { purged } = await store.purgeAuditEventsBefore(new Date(base + 3000));
      expect(purged).toBeGreaterThanOrEqual(3);
      const after = await store.getAuditChainHead();
      expect(after.lastSeq).toBe(head.lastSeq);
      const kept = await store.listAuditEventsAscending({ limit: 100 });
      expect(kept[0]?.chainSeq).toBe(after.anchorSeq);
      expectChainVerifies(kept, after.anchorHash);
      // Appends go on linking after a purge.
      await store.appendAuditEvent(auditInput({ at: new Date(base + 10_000) }));
      await sealAll(store);
      const page = await store.listAuditEventsAscending({ afterSeq: kept[1]?.seq, limit: 100 });
      expect(page[0]?.seq).toBe((kept[1]?.seq ?? 0) + 1);
      expectChainVerifies(await store.listAuditEventsAscending({ limit: 100 }), after.anchorHash);
    });

    test('users with codes: keyset pages in email order, prefix search, roles and counts', async () => {
      const { store } = opened();
      const tag = randomUUID().slice(0, 8);
      const emails = ['carol', 'alice', 'bob', 'dave', 'Alfred'].map((name) => `${tag}-${name}@example.test`);
      for (const email of emails) {
        const user = await givenUser(store, { email, roles: ['editor'] });
        if (!email.includes('dave')) await store.replaceRecoveryCodeSet(user.id, newCodeSet(4));
      }
      const first = await store.listUsersWithCodes({ emailPrefix: `${tag}-`, limit: 2 });
      expect(first.map((row) => row.email)).toEqual([
        `${tag}-Alfred@example.test`,
        `${tag}-alice@example.test`,
      ]);
      const last = first[first.length - 1] as { email: string; id: string };
      const second = await store.listUsersWithCodes({ emailPrefix: `${tag}-`, after: last, limit: 10 });
      expect(second.map((row) => row.email)).toEqual([
        `${tag}-bob@example.test`,
        `${tag}-carol@example.test`,
      ]);
      expect(second[0]).toMatchObject({ roles: ['editor'], total: 4, remaining: 4, lastUsedAt: null });
      expect(await store.listUsersWithCodes({ emailPrefix: `${tag}-AL`, limit: 10 })).toHaveLength(2);
      expect(await store.listUsersWithCodes({ emailPrefix: `${tag}-%`, limit: 10 })).toHaveLength(0);
    });

    test('a time filter is exact, even for events appended slightly out of time order (clock skew)', async () => {
      const { store } = opened();
      const base = T0.getTime() + 90 * 24 * 3600_000;
      const offsets = [0, 60_000, 30_000, 120_000, 119_000, 180_000];
      const appended = [];
      for (const offset of offsets)
        appended.push(await store.appendAuditEvent(auditInput({ at: new Date(base + offset) })));
      const since = new Date(base + 30_000);
      const until = new Date(base + 120_000);
      const expected = appended.filter((e) => e.at >= since && e.at < until).map((e) => e.seq);
      const found = await store.listAuditEvents({ since, until, limit: 100 });
      expect(found.map((e) => e.seq).sort((a, b) => a - b)).toEqual(expected);
      const ascending = await store.listAuditEventsAscending({ since, until, limit: 100 });
      expect(ascending.map((e) => e.seq)).toEqual(expected);
    });

    test('every account is listed by email in keyset pages', async () => {
      const { store } = opened();
      const tag = `zz-${randomUUID().slice(0, 6)}`;
      for (const name of ['b', 'a', 'c'])
        await givenUser(store, { email: `${tag}-${name}@example.test`, roles: ['author'] });
      const all = await store.listUsers({ afterEmail: `${tag}-`, limit: 2 });
      expect(all.map((user) => user.email)).toEqual([`${tag}-a@example.test`, `${tag}-b@example.test`]);
      expect(all[0]?.roles).toEqual(['author']);
      const next = await store.listUsers({ afterEmail: all[1]?.email ?? undefined, limit: 2 });
      expect(next[0]?.email).toBe(`${tag}-c@example.test`);
    });

    test('custom roles are added once and listed', async () => {
      const { store } = opened();
      const name = `support-${randomUUID().slice(0, 6)}`;
      expect(await store.addCustomRole(name, T0)).toEqual({ added: true });
      expect(await store.addCustomRole(name, T0)).toEqual({ added: false });
      expect(await store.listCustomRoles()).toContain(name);
    });
  });
}
