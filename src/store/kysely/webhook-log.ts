import type { Kysely } from 'kysely';
import type { WebhookDeliveryRecord, WriteOutcome } from '../store.js';
import { changedExactlyOne, type StoreContext, toDate, toDateOrNull } from './context.js';
import type { Database } from './database.js';

/** The delivery log: what the admin console lists, and putting a finished delivery back in the queue. */

const logColumns = [
  'd.id',
  'd.endpoint_id',
  'e.url',
  'd.event_type',
  'd.status',
  'd.attempts',
  'd.created_at',
  'd.last_attempt_at',
  'd.last_status_code',
  'd.last_error',
  'd.delivered_at',
  'd.next_attempt_at',
] as const;

function logQuery(db: Kysely<Database>) {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .select(logColumns);
}

type LogRow = Awaited<ReturnType<ReturnType<typeof logQuery>['executeTakeFirstOrThrow']>>;

const optionalNumber = (value: number | string | null) => (value === null ? null : Number(value));

function toRecord(row: LogRow): WebhookDeliveryRecord {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    url: row.url,
    eventType: row.event_type,
    status: row.status as WebhookDeliveryRecord['status'],
    attempts: Number(row.attempts),
    createdAt: toDate(Number(row.created_at)),
    lastAttemptAt: toDateOrNull(optionalNumber(row.last_attempt_at)),
    lastStatusCode: optionalNumber(row.last_status_code),
    lastError: row.last_error,
    deliveredAt: toDateOrNull(optionalNumber(row.delivered_at)),
    nextAttemptAt: toDate(Number(row.next_attempt_at)),
  };
}

export async function listWebhookDeliveries(
  ctx: StoreContext,
  limit: number,
): Promise<WebhookDeliveryRecord[]> {
  const rows = await logQuery(ctx.db)
    .orderBy('d.created_at', 'desc')
    .orderBy('d.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toRecord);
}

export async function findWebhookDelivery(
  ctx: StoreContext,
  id: string,
): Promise<WebhookDeliveryRecord | undefined> {
  const row = await logQuery(ctx.db).where('d.id', '=', id).executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

/**
 * Redeliver: a finished delivery (delivered or given up) becomes pending again, due at `at`, with the same
 * id and payload and a fresh retry schedule (attempts from 0). The status condition makes it one winner
 * against a second click or another administrator, and never touches a delivery a worker holds.
 */
export async function requeueWebhookDelivery(
  ctx: StoreContext,
  id: string,
  at: Date,
): Promise<WriteOutcome<'requeued'>> {
  const update = await ctx.db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', attempts: 0, next_attempt_at: at.getTime(), delivered_at: null })
    .where('id', '=', id)
    .where('status', 'in', ['delivered', 'failed'])
    .executeTakeFirst();
  return { requeued: changedExactlyOne(update) };
}
