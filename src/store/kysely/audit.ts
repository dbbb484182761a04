import { type AuditEvent, type AuditEventInput, hashAuditEvent } from '../../core/audit.js';
import type { AuditQuery } from '../store.js';
import type { StoreContext } from './context.js';
import type { AuditEventsTable } from './database.js';

export async function appendAuditEvent(ctx: StoreContext, event: AuditEventInput): Promise<AuditEvent> {
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
    return { ...event, seq, prevHash: head.last_hash, hash };
  });
}

export async function listAuditEvents(ctx: StoreContext, query: AuditQuery): Promise<AuditEvent[]> {
  const rows = await ctx.db
    .selectFrom('audit_events')
    .selectAll()
    .$if(query.userId !== undefined, (q) => q.where('user_id', '=', query.userId!))
    .$if(query.action !== undefined, (q) => q.where('action', '=', query.action!))
    .$if(query.since !== undefined, (q) => q.where('at', '>=', query.since!.getTime()))
    .$if(query.until !== undefined, (q) => q.where('at', '<', query.until!.getTime()))
    .$if(query.beforeSeq !== undefined, (q) => q.where('seq', '<', query.beforeSeq!))
    .orderBy('seq', 'desc')
    .limit(query.limit)
    .execute();
  return rows.map(toAuditEvent);
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
