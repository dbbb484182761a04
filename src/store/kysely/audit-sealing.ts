import { type Kysely, sql } from 'kysely';
import { hashAuditEvent, isSealed, type SealedAuditEvent } from '../../core/audit.js';
import {
  AUDIT_BUCKET_MS,
  type AuditChainHead,
  type AuditSealingRound,
  type AuditSealingState,
} from '../store.js';
import { toAuditEvent } from './audit.js';
import type { StoreContext } from './context.js';
import type { Database } from './database.js';

/**
 * Sealing (decision 0005): events are inserted unlinked and committed with their action; one sealer at a
 * time links them into the chain here. Two things make "one sealer" hold:
 * - the lease row (audit_sealer), taken or renewed first in every sealing transaction on the database's
 *   clock: a holder whose lease ran out and was taken over updates no row and writes nothing;
 * - the chain head's row lock (PostgreSQL; SQLite's one write lock), held to commit by every sealing
 *   transaction, so even two holders could only seal one after the other, each after the other's head.
 */
export async function sealAuditEvents(
  ctx: StoreContext,
  input: { holder: string; leaseMs: number; limit: number },
): Promise<AuditSealingRound> {
  return ctx.atomic(async (db) => {
    const now = ctx.engine.nowMs;
    const lease = await db
      .updateTable('audit_sealer')
      .set({ holder: input.holder, expires_at: sql<number>`${now} + ${input.leaseMs}` })
      .where('id', '=', 1)
      .where((eb) => eb.or([eb('holder', '=', input.holder), eb('expires_at', '<', now)]))
      .executeTakeFirst();
    if (lease.numUpdatedRows !== 1n) return { role: 'standby', sealed: 0, lagMs: null };

    const head = await db
      .updateTable('audit_chain_head')
      .set((eb) => ({ last_seq: eb('last_seq', '+', 0) }))
      .where('id', '=', 1)
      .returning(['last_seq', 'last_hash'])
      .executeTakeFirstOrThrow();
    // Committed events only (READ COMMITTED / SQLite's snapshot), oldest number first. An event whose
    // transaction commits later, with a smaller number, is simply sealed in a later round: the chain's
    // order is the order of sealing, and nothing waits for a number that may never commit.
    const batch = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('chain_seq', 'is', null)
      .orderBy('seq', 'asc')
      .limit(input.limit)
      .execute();
    if (batch.length === 0) return { role: 'sealer', sealed: 0, lagMs: null };

    const sealedAt = Number(
      (await sql<{ now: number | string }>`select ${now} as now`.execute(db)).rows[0]?.now,
    );
    let chainSeq = head.last_seq;
    let prevHash = head.last_hash;
    const counts = new Map<string, { bucketStart: number; action: string; events: number }>();
    const links: AuditLink[] = [];
    for (const row of batch) {
      chainSeq += 1;
      // The hash is computed from the row as stored, exactly what verification will read back.
      const hash = hashAuditEvent(prevHash, chainSeq, toAuditEvent(row));
      links.push({ seq: row.seq, chainSeq, prevHash, hash });
      prevHash = hash;
      const bucketStart = row.at - (row.at % AUDIT_BUCKET_MS);
      const key = `${bucketStart} ${row.action}`;
      const count = counts.get(key) ?? { bucketStart, action: row.action, events: 0 };
      count.events += 1;
      counts.set(key, count);
    }
    for (let from = 0; from < links.length; from += LINKS_PER_STATEMENT) {
      const chunk = links.slice(from, from + LINKS_PER_STATEMENT);
      const linked = await writeLinks(db, chunk, sealedAt);
      // Cannot happen while the head's lock is held; if it ever did, roll back rather than fork.
      if (linked !== chunk.length)
        throw new Error(
          `audit events ${chunk[0]?.seq}..${chunk.at(-1)?.seq}: ${chunk.length - linked} sealed by another sealer`,
        );
    }
    await db
      .updateTable('audit_chain_head')
      .set({ last_seq: chainSeq, last_hash: prevHash })
      .where('id', '=', 1)
      .execute();
    // The statistics' counters, in the transaction that seals the events they count: exact, and only the
    // sealer (one at a time) writes them, so no request waits on a shared counter row.
    for (const count of counts.values()) {
      await db
        .insertInto('audit_counts')
        .values({ bucket_start: count.bucketStart, action: count.action, events: count.events })
        .onConflict((conflict) =>
          conflict
            .columns(['bucket_start', 'action'])
            .doUpdateSet((eb) => ({ events: eb('audit_counts.events', '+', count.events) })),
        )
        .execute();
    }
    const newest = batch[batch.length - 1];
    return { role: 'sealer', sealed: batch.length, lagMs: newest ? sealedAt - newest.at : null };
  });
}

/** One event's place in the chain, as the sealer computed it. */
interface AuditLink {
  seq: number;
  chainSeq: number;
  prevHash: string;
  hash: string;
}

/**
 * Links per UPDATE, at most. Each length of the VALUES list is an SQL text of its own, which SQLite's
 * statement cache (src/store/sqlite/statement-cache.ts) keeps compiled, at 0.7-1 KiB per VALUES row: a list
 * as long as the batch kept one compiled statement per batch size seen, up to 500 (some 90 MiB in a
 * long-running server; 83 of them, about 4 MiB, after one `npm run bench:audit`). So a statement holds at
 * most 64 links and its list is padded to the next power of two (paddedLength): 7 texts, about 100 KiB
 * compiled. A full round of 500 events is 8 statements, still a small share of the round per event.
 */
const LINKS_PER_STATEMENT = 64;

/** The VALUES list's length for `links` links: the next power of two, so only a few SQL texts exist. */
function paddedLength(links: number): number {
  let length = 1;
  while (length < links) length *= 2;
  return length;
}

/** A VALUES row that matches no event (a null seq equals nothing), padding a list to its length. */
const PADDING_ROW = sql`(cast(${null} as bigint), cast(${null} as bigint), cast(${null} as text), cast(${null} as text))`;

/**
 * Writes up to LINKS_PER_STATEMENT links with one statement, `UPDATE ... FROM (VALUES ...)` (PostgreSQL,
 * and SQLite since 3.33), instead of one UPDATE per event: the sealer's cost per event is then a share of
 * one round trip. Only rows still unlinked are written; returns how many were, which the caller checks is
 * all of them (padding rows write nothing). The casts give PostgreSQL the VALUES columns' types (SQLite
 * takes them as its affinities); a VALUES list's columns are named column1..column4 by both engines.
 */
async function writeLinks(
  db: Kysely<Database>,
  links: readonly AuditLink[],
  sealedAt: number,
): Promise<number> {
  const rows = sql.join([
    ...links.map(
      (link) =>
        sql`(cast(${link.seq} as bigint), cast(${link.chainSeq} as bigint), cast(${link.prevHash} as text), cast(${link.hash} as text))`,
    ),
    ...Array.from({ length: paddedLength(links.length) - links.length }, () => PADDING_ROW),
  ]);
  const result = await sql`update audit_events
    set chain_seq = v.column2, prev_hash = v.column3, hash = v.column4, sealed_at = ${sealedAt}
    from (values ${rows}) as v
    where audit_events.seq = v.column1 and audit_events.chain_seq is null`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

export async function releaseAuditSealer(ctx: StoreContext, holder: string): Promise<void> {
  await ctx.atomic((db) =>
    db.updateTable('audit_sealer').set({ expires_at: 0 }).where('holder', '=', holder).execute(),
  );
}

export async function getAuditSealingState(ctx: StoreContext): Promise<AuditSealingState> {
  const unsealed = await ctx.db
    .selectFrom('audit_events')
    .select((eb) => [eb.fn.countAll<number | string>().as('unsealed'), eb.fn.min('seq').as('oldest')])
    .where('chain_seq', 'is', null)
    .executeTakeFirstOrThrow();
  const newest = await ctx.db
    .selectFrom('audit_events')
    .select('seq')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return {
    unsealed: Number(unsealed.unsealed),
    oldestUnsealedSeq: unsealed.oldest === null ? null : Number(unsealed.oldest),
    newestSeq: newest?.seq ?? null,
  };
}

export async function listSealedAuditEvents(
  ctx: StoreContext,
  query: { afterChainSeq?: number; limit: number },
): Promise<SealedAuditEvent[]> {
  const rows = await ctx.db
    .selectFrom('audit_events')
    .selectAll()
    .where('chain_seq', 'is not', null)
    .$if(query.afterChainSeq !== undefined, (q) => q.where('chain_seq', '>', query.afterChainSeq as number))
    .orderBy('chain_seq', 'asc')
    .limit(query.limit)
    .execute();
  return rows.map(toAuditEvent).filter(isSealed);
}

export async function findAuditChainSeqByHash(ctx: StoreContext, hash: string): Promise<number | undefined> {
  // No index on hash: asked only when verification has already found a broken link.
  const row = await ctx.db
    .selectFrom('audit_events')
    .select('chain_seq')
    .where('hash', '=', hash)
    .executeTakeFirst();
  return row?.chain_seq ?? undefined;
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
    // The chain head's lock: no sealing interleaves, so "the first kept event" is well defined.
    const head = await db
      .updateTable('audit_chain_head')
      .set((eb) => ({ last_seq: eb('last_seq', '+', 0) }))
      .where('id', '=', 1)
      .returning(['last_seq', 'last_hash'])
      .executeTakeFirstOrThrow();
    const firstKept = await db
      .selectFrom('audit_events')
      .select(['chain_seq', 'prev_hash'])
      .where('chain_seq', 'is not', null)
      .where('at', '>=', before.getTime())
      .orderBy('chain_seq', 'asc')
      .limit(1)
      .executeTakeFirst();
    // Nothing sealed is kept: anchor after the last sealed event, on the head's hash, so the next seal
    // still links. Events not yet sealed are never purged: they are not in the chain yet.
    const anchor =
      firstKept?.chain_seq != null && firstKept.prev_hash !== null
        ? { anchor_seq: firstKept.chain_seq, anchor_hash: firstKept.prev_hash }
        : { anchor_seq: head.last_seq + 1, anchor_hash: head.last_hash };
    const deleted = await db
      .deleteFrom('audit_events')
      .where('chain_seq', '<', anchor.anchor_seq)
      .executeTakeFirst();
    await db.updateTable('audit_chain_head').set(anchor).where('id', '=', 1).execute();
    return { purged: Number(deleted.numDeletedRows) };
  });
}
