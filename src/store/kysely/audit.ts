import { type Selectable, sql } from 'kysely';
import { type AuditEvent, type AuditEventInput, canonicalAuditEvent } from '../../core/audit.js';
import { AUDIT_BUCKET_MS, type AuditBucketCount, type AuditQuery } from '../store.js';
import { compiledOnce } from './compiled-once.js';
import type { StoreContext } from './context.js';
import type { AuditEventsTable } from './database.js';

export async function appendAuditEvent(ctx: StoreContext, input: AuditEventInput): Promise<AuditEvent> {
  // Hash and store the same canonical value (ids are strings, always), so the row re-hashes to its hash
  // whatever the caller passed; a value outside the schema throws here, before the transaction writes.
  const event = canonicalAuditEvent(input);
  // One INSERT in the caller's transaction, numbered by the database's sequence: no row is locked that
  // another user's transaction needs, so audited actions of different users commit in parallel. The
  // sealer links the event into the chain once it is committed (audit-sealing.ts); a rolled-back
  // transaction takes its event with it, leaving only an unused number.
  const row = (
    await eventInserted(ctx.db, [
      event.at.getTime(),
      event.action,
      event.outcome,
      event.userId,
      event.actorId,
      event.ip,
      event.userAgent,
      JSON.stringify(event.details),
    ])
  ).rows[0];
  if (row === undefined) throw new Error('appendAuditEvent: the insert returned no row');
  return { ...event, seq: row.seq, chainSeq: null, prevHash: null, hash: null };
}

/** Nearly every request appends an event: compiled once (compiled-once.ts); parameters in column order. */
const eventInserted = compiledOnce(
  'appendAuditEvent',
  (db) =>
    db
      .insertInto('audit_events')
      .values({
        at: 0,
        action: '',
        outcome: '',
        user_id: null,
        actor_id: null,
        ip: null,
        user_agent: null,
        details: '',
      })
      .returning('seq'),
  8,
);

/**
 * Several events in one INSERT (one round trip), numbered in the order given: an operation's events, and
 * the ones an edge carried to it (an API key's use), commit together in the caller's transaction.
 */
export async function appendAuditEvents(
  ctx: StoreContext,
  inputs: readonly AuditEventInput[],
): Promise<AuditEvent[]> {
  if (inputs.length === 0) return [];
  const events = inputs.map(canonicalAuditEvent);
  const rows = await ctx.db
    .insertInto('audit_events')
    .values(
      events.map((event) => ({
        at: event.at.getTime(),
        action: event.action,
        outcome: event.outcome,
        user_id: event.userId,
        actor_id: event.actorId,
        ip: event.ip,
        user_agent: event.userAgent,
        details: JSON.stringify(event.details),
      })),
    )
    .returning('seq')
    .execute();
  // Both engines number a multi-row INSERT's rows in the order of its VALUES; RETURNING's order is not
  // promised, so the numbers are matched to the events by rank.
  const seqs = rows.map((row) => row.seq).sort((a, b) => a - b);
  return events.map((event, i) => ({
    ...event,
    seq: seqs[i] as number,
    chainSeq: null,
    prevHash: null,
    hash: null,
  }));
}

/**
 * A time range also becomes a seq range, so every filter reads the seq-ordered indexes and a page costs
 * the same whether the range is a day or a year, and however far back it lies. Events are appended in
 * time order (seq is taken from the database's sequence when the event is inserted, just after its time
 * was read), up to the clock skew between instances and a transaction's length; the seq bounds are
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

export async function countAuditEventsByBucket(
  ctx: StoreContext,
  query: { actions: readonly string[]; from: Date; to: Date },
): Promise<AuditBucketCount[]> {
  if (query.actions.length === 0) return [];
  const from = query.from.getTime() - (query.from.getTime() % AUDIT_BUCKET_MS);
  const to = query.to.getTime();
  const actions = sql.join([...query.actions]);
  // One statement, so one snapshot: an event is either in the sealer's counters (sealed, counted in the
  // same transaction) or still unsealed, never both and never neither.
  const { rows } = await sql<{ bucket_start: number | string; action: string; events: number | string }>`
    select bucket_start, action, sum(events) as events from (
      select bucket_start, action, events from audit_counts
      where action in (${actions}) and bucket_start >= ${from} and bucket_start < ${to}
      union all
      select at - (at % ${sql.lit(AUDIT_BUCKET_MS)}) as bucket_start, action, count(*) as events from audit_events
      where chain_seq is null and action in (${actions}) and at >= ${from} and at < ${to}
      group by at - (at % ${sql.lit(AUDIT_BUCKET_MS)}), action
    ) as counted
    group by bucket_start, action
    order by bucket_start, action`.execute(ctx.db);
  return rows.map((row) => ({
    bucketStart: new Date(Number(row.bucket_start)),
    action: row.action,
    events: Number(row.events),
  }));
}

export function toAuditEvent(row: Selectable<AuditEventsTable>): AuditEvent {
  return {
    seq: row.seq,
    at: new Date(row.at),
    // Written only from the canonical AuditEventInput above, so the stored strings are members of the unions.
    action: row.action as AuditEvent['action'],
    outcome: row.outcome as AuditEvent['outcome'],
    userId: row.user_id,
    actorId: row.actor_id,
    ip: row.ip,
    userAgent: row.user_agent,
    details: JSON.parse(row.details) as AuditEvent['details'],
    chainSeq: row.chain_seq,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
