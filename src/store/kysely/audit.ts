import {
  type AuditEvent,
  type AuditEventInput,
  canonicalAuditEvent,
  hashAuditEvent,
} from '../../core/audit.js';
import { AUDIT_BUCKET_MS, type AuditBucketCount, type AuditChainHead, type AuditQuery } from '../store.js';
import type { StoreContext } from './context.js';
import type { AuditEventsTable } from './database.js';

export async function appendAuditEvent(ctx: StoreContext, input: AuditEventInput): Promise<AuditEvent> {
  // Hash and store the same canonical value (ids are strings, always), so the row re-hashes to its hash
  // whatever the caller passed; a value outside the schema throws here, before the transaction writes.
  const event = canonicalAuditEvent(input);
  return ctx.atomic(async (db) => {
    // Claim the next seq and read the previous hash in one statement. The UPDATE takes the chain head's
    // row lock (PostgreSQL) or runs under BEGIN IMMEDIATE (SQLite), so appenders in every process are
    // serialized until commit: the chain has one order, with no gaps and no forks. A waiting appender's
    // UPDATE re-reads the committed head, so it links to the event committed just before it.
    // Taken LAST in any transaction (callers audit at the end), so the lock order is always
    // user/code rows -> chain head and no deadlock can arise, and the lock is held only briefly.
    const head = await db
      .updateTable('audit_chain_head')
      .set((eb) => ({ last_seq: eb('last_seq', '+', 1) }))
      .where('id', '=', 1)
      .returning(['last_seq', 'last_hash'])
      .executeTakeFirstOrThrow();
    const seq = head.last_seq;
    const hash = hashAuditEvent(head.last_hash, seq, event);
    await db
      .insertInto('audit_events')
      .values({
        seq,
        at: event.at.getTime(),
        action: event.action,
        outcome: event.outcome,
        user_id: event.userId,
        actor_id: event.actorId,
        ip: event.ip,
        user_agent: event.userAgent,
        details: JSON.stringify(event.details),
        prev_hash: head.last_hash,
        hash,
      })
      .execute();
    await db.updateTable('audit_chain_head').set({ last_hash: hash }).where('id', '=', 1).execute();
    // The statistics' counter, in the same transaction: exact, and only appenders (already serialized) touch it.
    const bucketStart = event.at.getTime() - (event.at.getTime() % AUDIT_BUCKET_MS);
    await db
      .insertInto('audit_counts')
      .values({ bucket_start: bucketStart, action: event.action, events: 1 })
      .onConflict((conflict) =>
        conflict
          .columns(['bucket_start', 'action'])
          .doUpdateSet((eb) => ({ events: eb('audit_counts.events', '+', 1) })),
      )
      .execute();
    return { ...event, seq, prevHash: head.last_hash, hash };
  });
}

/**
 * A time range also becomes a seq range, so every filter reads the seq-ordered indexes and a page costs
 * the same whether the range is a day or a year, and however far back it lies. Events are appended in
 * time order (one chain, serialized appends), up to the clock skew between instances; the seq bounds are
 * taken with CLOCK_SLACK_MS to spare, and the exact `at` condition still decides.
 */
const CLOCK_SLACK_MS = 5 * 60_000;

async function seqBounds(ctx: StoreContext, query: AuditQuery): Promise<{ low?: number; high?: number }> {
  const bounds: { low?: number; high?: number } = {};
  if (query.since) {
    const first = await ctx.db
      .selectFrom('audit_events')
      .select('seq')
      .where('at', '>=', query.since.getTime() - CLOCK_SLACK_MS)
      .orderBy('at', 'asc')
      .limit(1)
      .executeTakeFirst();
    bounds.low = first?.seq ?? Number.MAX_SAFE_INTEGER;
  }
  if (query.until) {
    const last = await ctx.db
      .selectFrom('audit_events')
      .select('seq')
      .where('at', '<', query.until.getTime() + CLOCK_SLACK_MS)
      .orderBy('at', 'desc')
      .limit(1)
      .executeTakeFirst();
    bounds.high = last?.seq ?? 0;
  }
  return bounds;
}

async function filtered(ctx: StoreContext, query: AuditQuery) {
  const { low, high } = await seqBounds(ctx, query);
  return ctx.db
    .selectFrom('audit_events')
    .selectAll()
    .$if(query.userId !== undefined, (q) => q.where('user_id', '=', query.userId as string))
    .$if(query.action !== undefined, (q) => q.where('action', '=', query.action as string))
    .$if(low !== undefined, (q) => q.where('seq', '>=', low as number))
    .$if(high !== undefined, (q) => q.where('seq', '<=', high as number))
    .$if(query.since !== undefined, (q) => q.where('at', '>=', (query.since as Date).getTime()))
    .$if(query.until !== undefined, (q) => q.where('at', '<', (query.until as Date).getTime()));
}

export async function listAuditEvents(ctx: StoreContext, query: AuditQuery): Promise<AuditEvent[]> {
  const rows = await (await filtered(ctx, query))
    .$if(query.beforeSeq !== undefined, (q) => q.where('seq', '<', query.beforeSeq as number))
    .orderBy('seq', 'desc')
    .limit(query.limit)
    .execute();
  return rows.map(toAuditEvent);
}

export async function listAuditEventsAscending(
  ctx: StoreContext,
  query: AuditQuery & { afterSeq?: number },
): Promise<AuditEvent[]> {
  const rows = await (await filtered(ctx, query))
    .$if(query.afterSeq !== undefined, (q) => q.where('seq', '>', query.afterSeq as number))
    .orderBy('seq', 'asc')
    .limit(query.limit)
    .execute();
  return rows.map(toAuditEvent);
}

export async function getAuditChainHead(ctx: StoreContext): Promise<AuditChainHead> {
  const row = await ctx.db
    .selectFrom('audit_chain_head')
    .selectAll()
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  return {
    lastSeq: row.last_seq,
    lastHash: row.last_hash,
    anchorSeq: row.anchor_seq,
    anchorHash: row.anchor_hash,
  };
}

export async function purgeAuditEventsBefore(ctx: StoreContext, before: Date): Promise<{ purged: number }> {
  return ctx.atomic(async (db) => {
    // The chain head's lock: no append interleaves, so "the first kept event" is well defined.
    await db
      .updateTable('audit_chain_head')
      .set((eb) => ({ last_seq: eb('last_seq', '+', 0) }))
      .where('id', '=', 1)
      .execute();
    const firstKept = await db
      .selectFrom('audit_events')
      .select(['seq', 'prev_hash'])
      .where('at', '>=', before.getTime())
      .orderBy('seq', 'asc')
      .limit(1)
      .executeTakeFirst();
    // Nothing kept: anchor after the last event, on the head's hash, so the next append still links.
    const head = await db
      .selectFrom('audit_chain_head')
      .select(['last_seq', 'last_hash'])
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    const anchor = firstKept
      ? { anchor_seq: firstKept.seq, anchor_hash: firstKept.prev_hash }
      : { anchor_seq: head.last_seq + 1, anchor_hash: head.last_hash };
    const deleted = await db
      .deleteFrom('audit_events')
      .where('seq', '<', anchor.anchor_seq)
      .executeTakeFirst();
    await db.updateTable('audit_chain_head').set(anchor).where('id', '=', 1).execute();
    return { purged: Number(deleted.numDeletedRows) };
  });
}

export async function countAuditEventsByBucket(
  ctx: StoreContext,
  query: { actions: readonly string[]; from: Date; to: Date },
): Promise<AuditBucketCount[]> {
  if (query.actions.length === 0) return [];
  const rows = await ctx.db
    .selectFrom('audit_counts')
    .select(['bucket_start', 'action', 'events'])
    .where('action', 'in', [...query.actions])
    .where('bucket_start', '>=', query.from.getTime() - (query.from.getTime() % AUDIT_BUCKET_MS))
    .where('bucket_start', '<', query.to.getTime())
    .orderBy('bucket_start')
    .execute();
  return rows.map((row) => ({
    bucketStart: new Date(row.bucket_start),
    action: row.action,
    events: Number(row.events),
  }));
}

function toAuditEvent(row: AuditEventsTable): AuditEvent {
  return {
    seq: row.seq,
    at: new Date(row.at),
    // Written only from the typed AuditEventInput above, so the stored strings are members of the unions.
    action: row.action as AuditEvent['action'],
    outcome: row.outcome as AuditEvent['outcome'],
    userId: row.user_id,
    actorId: row.actor_id,
    ip: row.ip,
    userAgent: row.user_agent,
    details: JSON.parse(row.details) as AuditEvent['details'],
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
