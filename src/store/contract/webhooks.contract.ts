import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { Store } from '../store.js';
import { at, givenUser, type MakeStore, newCodeSet, race, useFreshStore } from './fixtures.js';

/** An endpoint subscribed to recovery-code uses; its id. */
async function givenEndpoint(store: Store): Promise<string> {
  const id = randomUUID();
  await store.createWebhookEndpoint({
    id,
    url: 'https://hooks.example.com/sparekey',
    events: ['recovery_code.used'],
    createdAt: at(0),
    createdBy: null,
  });
  return id;
}

const usedEvent = {
  type: 'recovery_code.used',
  payload: async () => '{"type":"recovery_code.used"}',
  at: at(5),
};

/** One delivery of `endpointId`'s, attempted once with `outcome`. */
async function finishedDelivery(store: Store, outcome: 'delivered' | 'failed'): Promise<string> {
  await store.enqueueWebhookDeliveries(usedEvent, () => randomUUID());
  const [claim] = await store.claimDueWebhookDeliveries(at(5), at(65_000), 1);
  if (!claim) throw new Error('nothing to claim');
  const recorded = await store.recordWebhookAttempt(claim.id, {
    at: at(6),
    outcome,
    statusCode: 500,
    error: 'HTTP 500',
  });
  if (!recorded.recorded) throw new Error('the attempt was not recorded');
  return claim.id;
}

export function defineWebhookContract(makeStore: MakeStore): void {
  describe('webhook outbox and delivery log', () => {
    const opened = useFreshStore(makeStore);

    test("the outbox row commits and rolls back with the change it reports (a code's use)", async () => {
      const { store } = opened();
      const endpointId = await givenEndpoint(store);
      const user = await givenUser(store);
      const set = newCodeSet(4);
      await store.replaceRecoveryCodeSet(user.id, set);
      const useAndReport = (slot: number, thenFail: boolean) =>
        store.transaction(async (tx) => {
          expect(await tx.consumeRecoveryCode(set.id, slot, at(5))).toMatchObject({ consumed: true });
          expect(await tx.enqueueWebhookDeliveries(usedEvent, () => randomUUID())).toBe(1);
          if (thenFail) throw new Error('the request failed after the event was written');
        });
      const mine = async () =>
        (await store.listWebhookDeliveries(50)).filter((d) => d.endpointId === endpointId);

      await expect(useAndReport(0, true)).rejects.toThrow('the request failed');
      // Rolled back: the code is unused again and there is no delivery to send for a use that never was.
      expect((await store.findRecoveryCode(user.id, 0))?.usedAt).toBeNull();
      expect(await mine()).toEqual([]);

      await useAndReport(1, false);
      expect((await store.findRecoveryCode(user.id, 1))?.usedAt).toEqual(at(5));
      const deliveries = await mine();
      expect(deliveries).toHaveLength(1);
      expect(deliveries[0]).toMatchObject({
        status: 'pending',
        attempts: 0,
        eventType: 'recovery_code.used',
      });
      await store.deleteWebhookEndpoint(endpointId);
    });

    test('removing an endpoint removes its deliveries, pending and finished, and no other endpoint’s', async () => {
      const { store } = opened();
      const removed = await givenEndpoint(store);
      const kept = await givenEndpoint(store);
      await finishedDelivery(store, 'failed'); // one for each endpoint (both subscribe)
      await store.enqueueWebhookDeliveries(usedEvent, () => randomUUID());
      expect(await store.deleteWebhookEndpoint(removed)).toEqual({ deleted: true });
      const left = await store.listWebhookDeliveries(50);
      expect(left.length).toBeGreaterThan(0);
      expect(left.every((d) => d.endpointId === kept)).toBe(true);
      expect(await store.deleteWebhookEndpoint(removed)).toEqual({ deleted: false });
      await store.deleteWebhookEndpoint(kept);
    });

    test('a test event goes to exactly one endpoint, whatever it subscribes to; none to a removed one', async () => {
      const { store } = opened();
      const endpointId = await givenEndpoint(store);
      const other = await givenEndpoint(store);
      const id = randomUUID();
      expect(
        await store.enqueueWebhookDeliveryTo(endpointId, { id, type: 'ping', payload: '{}', at: at(7) }),
      ).toEqual({ enqueued: true });
      expect(await store.findWebhookDelivery(id)).toMatchObject({
        endpointId,
        eventType: 'ping',
        status: 'pending',
        attempts: 0,
        nextAttemptAt: at(7),
      });
      expect((await store.listWebhookDeliveries(50)).filter((d) => d.endpointId === other)).toEqual([]);
      await store.deleteWebhookEndpoint(endpointId);
      await store.deleteWebhookEndpoint(other);
      expect(
        await store.enqueueWebhookDeliveryTo(endpointId, {
          id: randomUUID(),
          type: 'ping',
          payload: '{}',
          at: at(8),
        }),
      ).toEqual({ enqueued: false });
    });

    test('redeliver: a finished delivery is queued again with its id and a fresh count; a pending one is not', async () => {
      const { store } = opened();
      const endpointId = await givenEndpoint(store);
      const failed = await finishedDelivery(store, 'failed');
      expect(await store.findWebhookDelivery(failed)).toMatchObject({ status: 'failed', attempts: 1 });
      expect(await store.requeueWebhookDelivery(failed, at(100))).toEqual({ requeued: true });
      expect(await store.findWebhookDelivery(failed)).toMatchObject({
        status: 'pending',
        attempts: 0,
        nextAttemptAt: at(100),
        deliveredAt: null,
      });
      // Pending (queued, or in a worker's hands): not queued a second time.
      expect(await store.requeueWebhookDelivery(failed, at(101))).toEqual({ requeued: false });
      const [claim] = await store.claimDueWebhookDeliveries(at(100), at(60_100), 5);
      expect(claim).toMatchObject({ id: failed, attempts: 1 });
      expect(await store.requeueWebhookDelivery(failed, at(102))).toEqual({ requeued: false });
      expect(await store.requeueWebhookDelivery(randomUUID(), at(102))).toEqual({ requeued: false });
      await store.deleteWebhookEndpoint(endpointId);
    });

    test('an attempt is recorded only while the delivery is pending: a late duplicate changes nothing', async () => {
      const { store } = opened();
      const endpointId = await givenEndpoint(store);
      const delivered = await finishedDelivery(store, 'delivered');
      const late = { at: at(9), outcome: 'failed' as const, statusCode: 502, error: 'late duplicate' };
      expect(await store.recordWebhookAttempt(delivered, late)).toEqual({ recorded: false });
      expect(await store.findWebhookDelivery(delivered)).toMatchObject({
        status: 'delivered',
        lastStatusCode: 500,
        lastError: 'HTTP 500',
      });
      await store.deleteWebhookEndpoint(endpointId);
    });

    test('20 concurrent redelivers of one delivered delivery: exactly one re-queues it', async () => {
      const { store } = opened();
      const endpointId = await givenEndpoint(store);
      const delivered = await finishedDelivery(store, 'delivered');
      const results = await race(20, () => store.requeueWebhookDelivery(delivered, at(200)));
      expect(results.filter((result) => result.requeued)).toHaveLength(1);
      expect(await store.claimDueWebhookDeliveries(at(200), at(60_200), 50)).toHaveLength(1);
      await store.deleteWebhookEndpoint(endpointId);
    });
  });
}
