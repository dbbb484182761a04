import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { AUDIT_GENESIS_HASH } from '../../core/audit.js';
import {
  allAuditEvents,
  at,
  auditInput,
  expectChainVerifies,
  givenUser,
  type MakeStore,
  newCodeSet,
  useFreshStore,
} from './fixtures.js';

export function defineAuditAndTransactionContract(makeStore: MakeStore): void {
  describe('audit log', () => {
    const opened = useFreshStore(makeStore);

    test('appended events form a hash chain from the genesis hash, each hash recomputable', async () => {
      const { store } = opened();
      const first = await store.appendAuditEvent(auditInput({ action: 'sign_in' }));
      // Appended unsealed; the sealer links it (allAuditEvents seals first, as the server's sealer would).
      expect(first).toMatchObject({ seq: 1, chainSeq: null, prevHash: null, hash: null });
      for (let i = 1; i <= 4; i++) await store.appendAuditEvent(auditInput({ at: at(i) }));
      const events = await allAuditEvents(store);
      expect(events[0]).toMatchObject({ seq: 1, chainSeq: 1, prevHash: AUDIT_GENESIS_HASH });
      expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5]);
      expectChainVerifies(events, AUDIT_GENESIS_HASH);
    });

    test('an event comes back exactly as appended', async () => {
      const { store } = opened();
      const userId = randomUUID();
      const input = auditInput({
        userId,
        actorId: 'admin-1',
        ip: null,
        userAgent: null,
        details: { a: 'x', b: 2 },
      });
      const appended = await store.appendAuditEvent(input);
      expect(appended).toMatchObject(input);
      expect(await store.listAuditEvents({ userId, limit: 10 })).toEqual([appended]);
    });

    test('lists newest first, with a limit and keyset pages by seq', async () => {
      const { store } = opened();
      const userId = randomUUID();
      for (let i = 0; i < 5; i++) await store.appendAuditEvent(auditInput({ userId, details: { i } }));
      const page1 = await store.listAuditEvents({ userId, limit: 2 });
      expect(page1.map((event) => event.details.i)).toEqual([4, 3]);
      const page2 = await store.listAuditEvents({ userId, limit: 2, beforeSeq: page1[1]!.seq });
      expect(page2.map((event) => event.details.i)).toEqual([2, 1]);
      const page3 = await store.listAuditEvents({ userId, limit: 2, beforeSeq: page2[1]!.seq });
      expect(page3.map((event) => event.details.i)).toEqual([0]);
    });

    test('filters by user, action, and time (since inclusive, until exclusive)', async () => {
      const { store } = opened();
      const userId = randomUUID();
      const other = randomUUID();
      await store.appendAuditEvent(auditInput({ userId, action: 'totp_failed', at: at(100) }));
      await store.appendAuditEvent(auditInput({ userId, action: 'totp_verified', at: at(200) }));
      await store.appendAuditEvent(auditInput({ userId: other, action: 'totp_verified', at: at(200) }));
      await store.appendAuditEvent(auditInput({ userId, action: 'totp_verified', at: at(300) }));
      const list = async (query: object) =>
        (await store.listAuditEvents({ userId, limit: 10, ...query })).map(
          (event) => event.at.getTime() - at(0).getTime(),
        );
      expect(await list({})).toEqual([300, 200, 100]);
      expect(await list({ action: 'totp_verified' })).toEqual([300, 200]);
      expect(await list({ since: at(200) })).toEqual([300, 200]);
      expect(await list({ until: at(300) })).toEqual([200, 100]);
      expect(await list({ since: at(100), until: at(200) })).toEqual([100]);
      const verified = await store.listAuditEvents({
        action: 'totp_verified',
        since: at(200),
        until: at(201),
        limit: 10,
      });
      expect(verified.map((event) => event.userId).sort()).toEqual([userId, other].sort());
    });
  });

  describe('transactions', () => {
    const opened = useFreshStore(makeStore);

    test('a throwing callback rolls back every write: the code stays unused and no event exists', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const set = newCodeSet(5);
      await store.replaceRecoveryCodeSet(user.id, set);
      await store.appendAuditEvent(auditInput());
      const before = (await allAuditEvents(store)).at(-1)!;
      const failing = store.transaction(async (tx) => {
        expect(await tx.consumeRecoveryCode(set.id, 2, at(1))).toMatchObject({ consumed: true });
        await tx.appendAuditEvent(auditInput({ userId: user.id }));
        throw new Error('boom');
      });
      await expect(failing).rejects.toThrow('boom');
      expect(await store.findRecoveryCode(user.id, 2)).toMatchObject({ usedAt: null });
      expect(await store.getRecoveryCodeSummary(user.id)).toMatchObject({ remaining: 5, lastUsedAt: null });
      expect(await store.listAuditEvents({ userId: user.id, limit: 5 })).toEqual([]);
      // Nothing of it reaches the chain: the next event takes the very next chain place and links to `before`.
      const appended = await store.appendAuditEvent(auditInput());
      const after = (await allAuditEvents(store)).at(-1)!;
      expect(after).toMatchObject({
        seq: appended.seq,
        chainSeq: before.chainSeq! + 1,
        prevHash: before.hash,
      });
    });

    test('events appended together are numbered in the order given and commit or roll back with the transaction', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const failing = store.transaction(async (tx) => {
        await tx.appendAuditEvents([
          auditInput({ userId: user.id, action: 'api_key_used' }),
          auditInput({ userId: user.id, action: 'recovery_code_used' }),
        ]);
        throw new Error('boom');
      });
      await expect(failing).rejects.toThrow('boom');
      expect(await store.listAuditEvents({ userId: user.id, limit: 5 })).toEqual([]);
      expect(await store.appendAuditEvents([])).toEqual([]);
      const appended = await store.transaction((tx) =>
        tx.appendAuditEvents([
          auditInput({ userId: user.id, action: 'api_key_used', details: { n: 1 } }),
          auditInput({ userId: user.id, action: 'recovery_code_used', details: { n: 2 } }),
          auditInput({ userId: user.id, action: 'mfa_disabled', details: { n: 3 } }),
        ]),
      );
      expect(appended.map((event) => event.action)).toEqual([
        'api_key_used',
        'recovery_code_used',
        'mfa_disabled',
      ]);
      expect(appended[1]!.seq).toBeGreaterThan(appended[0]!.seq);
      expect(appended[2]!.seq).toBeGreaterThan(appended[1]!.seq);
      const listed = await store.listAuditEvents({ userId: user.id, limit: 5 });
      expect(listed.map((event) => [event.seq, event.action, event.details])).toEqual(
        [...appended].reverse().map((event) => [event.seq, event.action, event.details]),
      );
      const chained = (await allAuditEvents(store)).filter((event) => event.userId === user.id);
      expect(chained.map((event) => event.seq)).toEqual(appended.map((event) => event.seq));
      expectChainVerifies(await allAuditEvents(store), AUDIT_GENESIS_HASH);
    });

    test('a nested transaction is part of the outer one and rolls back with it', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      await store.replaceRecoveryCodeSet(user.id, newCodeSet(3));
      const failing = store.transaction(async (tx) => {
        await tx.transaction((inner) => inner.deleteRecoveryCodeSet(user.id));
        throw new Error('outer fails after the inner call returned');
      });
      await expect(failing).rejects.toThrow('outer fails');
      expect(await store.getRecoveryCodeSummary(user.id)).toMatchObject({ total: 3, remaining: 3 });
    });

    test('a completed callback commits every write and returns its value', async () => {
      const { store } = opened();
      const user = await givenUser(store);
      const set = newCodeSet(3);
      await store.replaceRecoveryCodeSet(user.id, set);
      const result = await store.transaction(async (tx) => {
        const consumed = await tx.consumeRecoveryCode(set.id, 0, at(1));
        await tx.appendAuditEvent(auditInput({ userId: user.id }));
        return consumed;
      });
      expect(result).toEqual({ consumed: true, remaining: 2, total: 3 });
      expect(await store.getRecoveryCodeSummary(user.id)).toMatchObject({ remaining: 2 });
      expect(await store.listAuditEvents({ userId: user.id, limit: 5 })).toHaveLength(1);
    });
  });
}
