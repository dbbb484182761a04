import { type Kysely, sql } from 'kysely';
import type {
  NewWebhookEndpoint,
  WebhookDeliveryClaim,
  WebhookDeliveryResult,
  WebhookEndpointRecord,
  WriteOutcome,
} from '../store.js';
import { compiledOnce } from './compiled-once.js';
import { changedExactlyOne, type StoreContext, toDate } from './context.js';
import type { Database } from './database.js';

export async function createWebhookEndpoint(ctx: StoreContext, endpoint: NewWebhookEndpoint): Promise<void> {
  await ctx.db
    .insertInto('webhook_endpoints')
    .values({
      id: endpoint.id,
      url: endpoint.url,
      events: endpoint.events.join(' '),
      created_at: endpoint.createdAt.getTime(),
      created_by: endpoint.createdBy,
    })
    .execute();
}

export async function listWebhookEndpoints(ctx: StoreContext): Promise<WebhookEndpointRecord[]> {
  const rows = await ctx.db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    url: row.url,
    events: row.events.split(' ').filter(Boolean),
    createdAt: toDate(Number(row.created_at)),
    createdBy: row.created_by,
  }));
}

/** Deletes the endpoint and, with it, its pending deliveries and log. */
export async function deleteWebhookEndpoint(ctx: StoreContext, id: string): Promise<WriteOutcome<'deleted'>> {
  return ctx.atomic(async (db) => {
    await db.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
    const result = await db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
    return { deleted: Number(result.numDeletedRows) === 1 };
  });
}

/** A delivery's row as the outbox writes it: pending, due at once, never tried. */
function pendingDelivery(delivery: {
  id: string;
  endpointId: string;
  type: string;
  payload: string;
  at: Date;
}) {
  return {
    id: delivery.id,
    endpoint_id: delivery.endpointId,
    event_type: delivery.type,
    payload: delivery.payload,
    status: 'pending',
    attempts: 0,
    created_at: delivery.at.getTime(),
    next_attempt_at: delivery.at.getTime(),
    last_attempt_at: null,
    last_status_code: null,
    last_error: null,
    delivered_at: null,
  } as const;
}

/** One pending delivery per endpoint subscribed to `type`, in the caller's transaction (the outbox). */
/**
 * The endpoints subscribed to an event type ([`% type %`]): asked by every audited action that emits a
 * webhook event, inside its transaction, so compiled once (compiled-once.ts), with and without KEY SHARE.
 */
const subscribedQuery = (db: Kysely<Database>) =>
  db.selectFrom('webhook_endpoints').select('id').where(sql<boolean>`(' ' || events || ' ') like ${''}`);
const subscribedKeyShared = compiledOnce('subscribedEndpoints', (db) => subscribedQuery(db).forKeyShare(), 1);
const subscribedUnlocked = compiledOnce('subscribedEndpoints', subscribedQuery, 1);

export async function enqueueWebhookDeliveries(
  ctx: StoreContext,
  event: { type: string; payload: () => Promise<string>; at: Date },
  newId: () => string,
): Promise<number> {
  return ctx.atomic(async (db) => {
    // KEY SHARE (PostgreSQL): an endpoint being removed right now is waited for and then skipped, instead
    // of failing this delivery's foreign key, and with it the event's whole transaction, a moment later.
    // A removal that comes second waits for this transaction and takes the new delivery with it (cascade).
    const subscribed = ctx.engine.supportsRowLocks ? subscribedKeyShared : subscribedUnlocked;
    const endpoints = (await subscribed(db, [`% ${event.type} %`])).rows;
    if (endpoints.length === 0) return 0;
    const payload = await event.payload();
    await db
      .insertInto('webhook_deliveries')
      .values(
        endpoints.map((endpoint) =>
          pendingDelivery({ id: newId(), endpointId: endpoint.id, type: event.type, payload, at: event.at }),
        ),
      )
      .execute();
    return endpoints.length;
  });
}

/** One pending delivery to one endpoint (a test event); false when the endpoint is gone. */
export async function enqueueWebhookDeliveryTo(
  ctx: StoreContext,
  endpointId: string,
  delivery: { id: string; type: string; payload: string; at: Date },
): Promise<WriteOutcome<'enqueued'>> {
  return ctx.atomic(async (db) => {
    // KEY SHARE for the same reason as above: a removal in progress is waited for, then found gone.
    const endpoint = await db
      .selectFrom('webhook_endpoints')
      .select('id')
      .where('id', '=', endpointId)
      .$if(ctx.engine.supportsRowLocks, (query) => query.forKeyShare())
      .executeTakeFirst();
    if (!endpoint) return { enqueued: false };
    await db
      .insertInto('webhook_deliveries')
      .values(pendingDelivery({ ...delivery, endpointId }))
      .execute();
    return { enqueued: true };
  });
}

/**
 * Claims up to `limit` due deliveries: each gets one more attempt counted and is hidden from other workers
 * until `leaseUntil`. A worker that dies mid-send leaves the lease to run out, and the delivery goes out
 * again with the same id (at least once). PostgreSQL skips rows another worker is claiming; SQLite's
 * BEGIN IMMEDIATE serializes the claims.
 */
export async function claimDueWebhookDeliveries(
  ctx: StoreContext,
  at: Date,
  leaseUntil: Date,
  limit: number,
): Promise<WebhookDeliveryClaim[]> {
  return ctx.atomic(async (db) => {
    const due = await db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', at.getTime())
      .orderBy('next_attempt_at')
      .limit(limit)
      .$if(ctx.engine.supportsRowLocks, (query) => query.forUpdate().skipLocked())
      .execute();
    if (due.length === 0) return [];
    const ids = due.map((row) => row.id);
    await db
      .updateTable('webhook_deliveries')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        next_attempt_at: leaseUntil.getTime(),
        last_attempt_at: at.getTime(),
      }))
      .where('id', 'in', ids)
      .execute();
    const rows = await db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .select(['d.id', 'd.endpoint_id', 'e.url', 'd.event_type', 'd.payload', 'd.attempts', 'd.created_at'])
      .where('d.id', 'in', ids)
      .execute();
    return rows.map((row) => ({
      id: row.id,
      endpointId: row.endpoint_id,
      url: row.url,
      eventType: row.event_type,
      payload: row.payload,
      attempts: Number(row.attempts),
      createdAt: toDate(Number(row.created_at)),
    }));
  });
}

/** Records an attempt's outcome; only while the delivery is still pending (a late duplicate changes nothing). */
export async function recordWebhookAttempt(
  ctx: StoreContext,
  id: string,
  result: WebhookDeliveryResult,
): Promise<WriteOutcome<'recorded'>> {
  const update = await ctx.db
    .updateTable('webhook_deliveries')
    .set({
      status: result.outcome === 'retry' ? 'pending' : result.outcome,
      next_attempt_at: result.nextAttemptAt?.getTime() ?? result.at.getTime(),
      last_status_code: result.statusCode,
      last_error: result.error,
      delivered_at: result.outcome === 'delivered' ? result.at.getTime() : null,
    })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return { recorded: changedExactlyOne(update) };
}
