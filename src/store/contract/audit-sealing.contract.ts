import { describe, expect, test } from 'vitest';
import { AUDIT_GENESIS_HASH } from '../../core/audit.js';
import type { Store } from '../store.js';
import {
  allAuditEvents,
  at,
  auditInput,
  count,
  expectChainVerifies,
  type MakeStore,
  sealAll,
  useFreshStore,
} from './fixtures.js';

const LONG_LEASE_MS = 60_000;

async function append(store: Store, events: number, offsetMs = 0): Promise<void> {
  for (let i = 0; i < events; i += 1) await store.appendAuditEvent(auditInput({ at: at(offsetMs + i) }));
}

/** Decision 0005: events are appended without a shared lock and sealed into the chain by one holder. */
export function defineAuditSealingContract(makeStore: MakeStore): void {
  describe('audit sealing', () => {
    const opened = useFreshStore(makeStore);

    test('an appended event is listed at once, not yet sealed; sealing links it after the head', async () => {
      const { store } = opened();
      const appended = await store.appendAuditEvent(auditInput({ userId: 'unsealed-user' }));
      expect(appended).toMatchObject({ chainSeq: null, prevHash: null, hash: null });
      expect(await store.listAuditEvents({ userId: 'unsealed-user', limit: 5 })).toEqual([appended]);
      expect(await store.getAuditSealingState()).toMatchObject({
        unsealed: 1,
        oldestUnsealedSeq: appended.seq,
        newestSeq: appended.seq,
      });
      expect(await store.listSealedAuditEvents({ limit: 10 })).toEqual([]);
      expect(await sealAll(store)).toBe(1);
      const [sealed] = await store.listAuditEvents({ userId: 'unsealed-user', limit: 5 });
      expect(sealed).toMatchObject({ seq: appended.seq, chainSeq: 1, prevHash: AUDIT_GENESIS_HASH });
      expect(await store.getAuditChainHead()).toMatchObject({ lastSeq: 1, lastHash: sealed?.hash });
      expect(await store.getAuditSealingState()).toMatchObject({ unsealed: 0, oldestUnsealedSeq: null });
    });

    test('while one holder has the lease, others write no link; a released lease is taken over', async () => {
      const { store } = opened();
      await append(store, 30);
      const first = await store.sealAuditEvents({ holder: 'a', leaseMs: LONG_LEASE_MS, limit: 10 });
      expect(first).toMatchObject({ role: 'sealer', sealed: 10 });
      const rivals = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.sealAuditEvents({ holder: `rival-${i % 2}`, leaseMs: LONG_LEASE_MS, limit: 10 }),
        ),
      );
      expect(rivals.every((round) => round.role === 'standby' && round.sealed === 0)).toBe(true);
      expect((await store.getAuditSealingState()).unsealed).toBe(20);
      await store.releaseAuditSealer('a');
      expect(await store.sealAuditEvents({ holder: 'b', leaseMs: LONG_LEASE_MS, limit: 100 })).toMatchObject({
        role: 'sealer',
        sealed: 20,
      });
      // The old holder's lease was taken over: it is a standby now and writes nothing.
      await append(store, 1, 100);
      expect(await store.sealAuditEvents({ holder: 'a', leaseMs: LONG_LEASE_MS, limit: 100 })).toEqual({
        role: 'standby',
        sealed: 0,
        lagMs: null,
      });
      await store.releaseAuditSealer('b');
      expectChainVerifies(await allAuditEvents(store), AUDIT_GENESIS_HASH);
    });

    test('a lease that ran out (its holder died) is taken over on the database clock', async () => {
      const { store } = opened();
      await append(store, 3);
      expect(await store.sealAuditEvents({ holder: 'dies', leaseMs: 150, limit: 1 })).toMatchObject({
        role: 'sealer',
        sealed: 1,
      });
      expect(await store.sealAuditEvents({ holder: 'next', leaseMs: 150, limit: 10 })).toMatchObject({
        role: 'standby',
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(
        await store.sealAuditEvents({ holder: 'next', leaseMs: LONG_LEASE_MS, limit: 10 }),
      ).toMatchObject({
        role: 'sealer',
        sealed: 2,
      });
      await store.releaseAuditSealer('next');
      expectChainVerifies(await allAuditEvents(store), AUDIT_GENESIS_HASH);
    });

    test('8 holders racing for a free lease with appends going on: one seals, each event once, one chain', async () => {
      const { store } = opened();
      const before = (await store.getAuditChainHead()).lastSeq;
      const rounds = await Promise.all([
        append(store, 60, 1_000).then(() => []),
        ...Array.from({ length: 8 }, (_, i) =>
          Promise.all(
            Array.from({ length: 5 }, () =>
              store.sealAuditEvents({ holder: `racer-${i}`, leaseMs: LONG_LEASE_MS, limit: 7 }),
            ),
          ).then((results) => results.map((result) => ({ holder: i, ...result }))),
        ),
      ]);
      const sealers = new Set(
        rounds
          .flat()
          .filter((round) => round.role === 'sealer')
          .map((r) => r.holder),
      );
      expect(sealers.size).toBe(1);
      const [winner] = [...sealers];
      await store.releaseAuditSealer(`racer-${winner}`);
      const events = await allAuditEvents(store);
      expect(events.length - before).toBe(60);
      expect(new Set(events.map((event) => event.seq)).size).toBe(events.length);
      expectChainVerifies(events, AUDIT_GENESIS_HASH);
    });

    test('one round links a batch larger than one statement holds (1,200 events), in order, and it verifies', async () => {
      const { store } = opened();
      await sealAll(store);
      const before = await store.getAuditChainHead();
      await append(store, 1200);
      const round = await store.sealAuditEvents({ holder: 'batch', leaseMs: LONG_LEASE_MS, limit: 1500 });
      expect(round).toMatchObject({ role: 'sealer', sealed: 1200 });
      await store.releaseAuditSealer('batch');
      const events = await store.listSealedAuditEvents({ afterChainSeq: before.lastSeq, limit: 2000 });
      expect(events).toHaveLength(1200);
      // Chain order is seq order within a round, with no gap and no repeat, and the head is the last link.
      expect(events.map((event) => event.chainSeq)).toEqual(
        Array.from({ length: 1200 }, (_, i) => before.lastSeq + i + 1),
      );
      expect(events.every((event, i) => i === 0 || event.seq > (events[i - 1]?.seq ?? 0))).toBe(true);
      expect(await store.getAuditChainHead()).toMatchObject({
        lastSeq: before.lastSeq + 1200,
        lastHash: events.at(-1)?.hash,
      });
      expect((await store.getAuditSealingState()).unsealed).toBe(0);
      expectChainVerifies(events, before.lastHash);
    });

    test('statistics count every event exactly once, sealed or not, and while it is being sealed', async () => {
      const { store } = opened();
      const base = at(90 * 24 * 3600_000);
      const query = {
        actions: ['totp_failed', 'sign_in'],
        from: base,
        to: new Date(base.getTime() + 3600_000),
      };
      for (let i = 0; i < 40; i += 1)
        await store.appendAuditEvent(
          auditInput({
            action: i % 4 === 0 ? 'sign_in' : 'totp_failed',
            at: new Date(base.getTime() + i * 60_000),
          }),
        );
      const total = async () =>
        (await store.countAuditEventsByBucket(query)).reduce((sum, row) => sum + row.events, 0);
      expect(await total()).toBe(40);
      // Counted while sealing runs, in small rounds: never more, never fewer.
      const readings: number[] = [];
      const sealing = (async () => {
        for (;;) {
          const round = await store.sealAuditEvents({ holder: 'stats', leaseMs: LONG_LEASE_MS, limit: 3 });
          if (round.sealed === 0) return;
        }
      })();
      while (count(readings.map((reading) => reading === 40)) < 20) readings.push(await total());
      await sealing;
      await store.releaseAuditSealer('stats');
      expect(readings.every((reading) => reading === 40)).toBe(true);
      const rows = await store.countAuditEventsByBucket(query);
      expect(rows.filter((row) => row.action === 'sign_in').reduce((sum, row) => sum + row.events, 0)).toBe(
        10,
      );
      expect(await total()).toBe(40);
    });
  });
}
