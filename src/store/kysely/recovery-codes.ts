import { type Kysely, sql } from 'kysely';
import type {
  NewRecoveryCodeSet,
  RecoveryCodeConsumption,
  RecoveryCodeRecord,
  RecoveryCodeSummary,
} from '../store.js';
import { compiledOnce } from './compiled-once.js';
import { changedExactlyOne, type StoreContext, toDate, toDateOrNull } from './context.js';
import { counterShardOf } from './counter-shards.js';
import type { Database } from './database.js';

/*
 * Lock order, the same in every method here so no two of them deadlock on PostgreSQL:
 * user row -> code rows -> set row -> set-count rows (ascending by remaining, then shard).
 * (The audit chain takes no lock on the request path: decision 0007.)
 * consumeRecoveryCode takes user row -> code row -> set row; replacement and deletion take user row -> code rows
 * (deleted explicitly, before the set, rather than through ON DELETE CASCADE, which would lock the set
 * row first and invert the order against a concurrent consume).
 */

export async function replaceRecoveryCodeSet(
  ctx: StoreContext,
  userId: string,
  set: NewRecoveryCodeSet,
): Promise<void> {
  await ctx.atomic(async (db) => {
    // FIRST bump the version: on PostgreSQL the UPDATE takes the user's row lock, so concurrent
    // regenerations for one user run one after another. Under READ COMMITTED each later statement of a
    // waiter takes a fresh snapshot, so it sees (and deletes) the set the previous winner committed
    // instead of colliding with it on the UNIQUE user_id. SQLite: BEGIN IMMEDIATE already serializes.
    if (!(await bumpCodeSetVersion(db, userId))) {
      throw new Error(`replaceRecoveryCodeSet: no user ${userId}`);
    }
    const old = await deleteSetOf(db, userId);
    // Each `remaining` count is spread over COUNTER_SHARDS rows by owner (counter-shards.ts): every recovery
    // transaction moves its set between two counter rows and holds their locks to commit (PostgreSQL), so
    // two users meet on a row only when their ids share a shard and their sets the count. Reads sum at
    // most 33 x COUNTER_SHARDS rows.
    const shard = counterShardOf(userId);
    await adjustSetCounts(db, [
      ...(old === undefined ? [] : [{ ...old, delta: -1 }]),
      { remaining: set.codes.length, shard, delta: 1 },
    ]);
    await db
      .insertInto('recovery_code_sets')
      .values({
        id: set.id,
        user_id: userId,
        generated_at: set.generatedAt.getTime(),
        total: set.codes.length,
        remaining: set.codes.length,
        count_shard: shard,
      })
      .execute();
    if (set.codes.length === 0) return;
    await db
      .insertInto('recovery_codes')
      .values(set.codes.map((code) => ({ set_id: set.id, slot: code.slot, digest: code.digest })))
      .execute();
  });
}

/*
 * The statements of every verification, compiled once (compiled-once.ts): building Kysely's tree costs the
 * server more than PostgreSQL's answer to such a small indexed statement. Parameters in SQL order.
 */
const codeBySlot = compiledOnce(
  'findRecoveryCode',
  (db) =>
    db
      .selectFrom('recovery_codes as c')
      .innerJoin('recovery_code_sets as s', 's.id', 'c.set_id')
      .select(['c.set_id', 'c.slot', 'c.digest', 'c.used_at'])
      .where('s.user_id', '=', '')
      .where('c.slot', '=', 0),
  2,
);
/** [setId] */
const lockSetOwner = compiledOnce(
  'lockSetOwner',
  (db) =>
    db
      .selectFrom('users')
      .select('id')
      .where('id', '=', (eb) => eb.selectFrom('recovery_code_sets').select('user_id').where('id', '=', ''))
      .forNoKeyUpdate(),
  1,
);
/** [usedAt, setId, slot] */
const markCodeUsed = compiledOnce(
  'markCodeUsed',
  (db) =>
    db
      .updateTable('recovery_codes')
      .set({ used_at: 0 })
      .where('set_id', '=', '')
      .where('slot', '=', 0)
      .where('used_at', 'is', null),
  3,
);
/** [1, lastUsedAt, setId] */
const countCodeUse = compiledOnce(
  'countCodeUse',
  (db) =>
    db
      .updateTable('recovery_code_sets')
      .set((eb) => ({ remaining: eb('remaining', '-', 1), last_used_at: 0 }))
      .where('id', '=', '')
      .returning(['remaining', 'total', 'count_shard']),
  3,
);
/** [delta, remaining, shard] */
const subtractSetCount = compiledOnce(
  'subtractSetCount',
  (db) =>
    db
      .updateTable('recovery_code_set_counts')
      .set((eb) => ({ sets: eb('sets', '+', 0) }))
      .where('remaining', '=', 0)
      .where('shard', '=', 0),
  3,
);
/** [remaining, shard, delta, delta] */
const addSetCount = compiledOnce(
  'addSetCount',
  (db) =>
    db
      .insertInto('recovery_code_set_counts')
      .values({ remaining: 0, shard: 0, sets: 0 })
      .onConflict((conflict) =>
        conflict
          .columns(['remaining', 'shard'])
          .doUpdateSet((eb) => ({ sets: eb('recovery_code_set_counts.sets', '+', 0) })),
      ),
  4,
);

/**
 * consumeRecoveryCode's steps as one statement, for an engine whose WITH may write (PostgreSQL): each step
 * reads the one before, so they run, and take their locks, in the order the steps below take them: the
 * owner's row (the UPDATE of the code evaluates its uncorrelated EXISTS before it touches a row), the code
 * row, the set row, then the two counter rows in ascending `remaining`, in one upsert. Under READ
 * COMMITTED each UPDATE re-evaluates its condition against the latest committed version of a row it waited
 * for, as the separate statements do: a code a concurrent consumer used, or a set a replacement deleted,
 * changes no row. But the statement's snapshot is older than the owner's lock when it waited, so a counter
 * row the previous holder inserted is invisible to a scan: both counter rows are therefore written by
 * INSERT ... ON CONFLICT, which finds committed rows by the unique index whatever the snapshot. The row
 * the set leaves is proposed with 0 sets (1 for the row it enters) so the CHECK, which PostgreSQL applies
 * to the proposed row before the conflict, holds; on conflict each becomes -1 or +1.
 * [setId, usedAt, setId, slot, lastUsedAt]
 */
const consumedInOne = compiledOnce<{
  used: number | string;
  remaining: number | null;
  total: number | null;
}>(
  'consumeRecoveryCodeInOne',
  (db) => ({
    compile: () =>
      sql<never>`with owner as (
          select id from users
          where id = (select user_id from recovery_code_sets where id = ${''})
          for no key update
        ), used as (
          update recovery_codes set used_at = ${0}
          where set_id = ${''} and slot = ${0} and used_at is null and exists (select 1 from owner)
          returning set_id
        ), counted as (
          update recovery_code_sets set remaining = remaining - 1, last_used_at = ${0}
          where id in (select set_id from used)
          returning remaining, total, count_shard
        ), moved as (
          insert into recovery_code_set_counts (remaining, shard, sets)
          select remaining, count_shard, 1 from counted
          union all select remaining + 1, count_shard, 0 from counted
          order by 1
          on conflict (remaining, shard) do update
          set sets = recovery_code_set_counts.sets + (case when excluded.sets = 1 then 1 else -1 end)
        )
        select (select count(*) from used) as used, counted.remaining, counted.total
        from (select 1) as one left join counted on true`.compile(db),
  }),
  5,
);

export async function findRecoveryCode(
  ctx: StoreContext,
  userId: string,
  slot: number,
): Promise<RecoveryCodeRecord | undefined> {
  const row = (await codeBySlot(ctx.db, [userId, slot])).rows[0];
  return row && { setId: row.set_id, slot: row.slot, digest: row.digest, usedAt: toDateOrNull(row.used_at) };
}

export async function consumeRecoveryCode(
  ctx: StoreContext,
  setId: string,
  slot: number,
  at: Date,
): Promise<RecoveryCodeConsumption> {
  return ctx.atomic(async (db) => {
    if (ctx.engine.writesInWith) {
      const row = (await consumedInOne(db, [setId, at.getTime(), setId, slot, at.getTime()])).rows[0];
      if (row === undefined || Number(row.used) !== 1) return { consumed: false };
      if (row.remaining === null || row.total === null)
        throw new Error(`consumeRecoveryCode: set ${setId} is gone`);
      return { consumed: true, remaining: row.remaining, total: row.total };
    }
    // The owner's row lock first, as every writer of a user's codes takes it: a transaction that
    // consumes and then replaces the set (the rotate policy) or deletes it (disable_mfa) would otherwise
    // lock code -> set -> user while a regeneration locks user -> codes, and PostgreSQL would abort one
    // of them as a deadlock. Consumes of one user's codes serialize; different users never wait. (SQLite
    // has no row locks: BEGIN IMMEDIATE already holds the one write lock, so there is nothing to take.)
    if (ctx.engine.supportsRowLocks) await lockSetOwner(db, [setId]);
    // Single use like Kratos: one conditional UPDATE, then check that exactly one row changed. Under
    // PostgreSQL READ COMMITTED a second concurrent UPDATE of the same code waits on the row lock, then
    // re-evaluates `used_at IS NULL` against the first caller's committed row and changes 0 rows. If a
    // replacement deleted the set (and so the code) first, the row is gone and 0 rows change. SQLite runs
    // the whole transaction under BEGIN IMMEDIATE, one writer at a time, across processes too.
    const used = await markCodeUsed(db, [at.getTime(), setId, slot]);
    if (used.numAffectedRows !== 1n) return { consumed: false };
    // The counter moves in the same transaction, relative to the committed value (`remaining - 1` is
    // evaluated after any concurrent consumer of another code commits), so two different codes used at
    // once both count and no consumed code is "resurrected" by a stale write-back.
    const set = (await countCodeUse(db, [1, at.getTime(), setId])).rows[0];
    if (set === undefined) throw new Error(`consumeRecoveryCode: set ${setId} is gone`);
    await adjustSetCounts(db, [
      { remaining: set.remaining + 1, shard: set.count_shard, delta: -1 },
      { remaining: set.remaining, shard: set.count_shard, delta: 1 },
    ]);
    return { consumed: true, remaining: set.remaining, total: set.total };
  });
}

export async function getRecoveryCodeSummary(
  ctx: StoreContext,
  userId: string,
): Promise<RecoveryCodeSummary | undefined> {
  const row = await ctx.db
    .selectFrom('recovery_code_sets')
    .selectAll()
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return (
    row && {
      setId: row.id,
      generatedAt: toDate(row.generated_at),
      total: row.total,
      remaining: row.remaining,
      lastUsedAt: toDateOrNull(row.last_used_at),
    }
  );
}

export async function listRecoveryCodeSlots(
  ctx: StoreContext,
  userId: string,
): Promise<{ slot: number; usedAt: Date | null }[]> {
  const rows = await ctx.db
    .selectFrom('recovery_codes as c')
    .innerJoin('recovery_code_sets as s', 's.id', 'c.set_id')
    .select(['c.slot', 'c.used_at'])
    .where('s.user_id', '=', userId)
    .orderBy('c.slot')
    .execute();
  return rows.map((row) => ({ slot: row.slot, usedAt: toDateOrNull(row.used_at) }));
}

export async function deleteRecoveryCodeSet(
  ctx: StoreContext,
  userId: string,
): Promise<{ deleted: boolean }> {
  return ctx.atomic(async (db) => {
    // Same lock order as a replacement (user row first), so a deletion and a regeneration serialize.
    if (!(await bumpCodeSetVersion(db, userId))) return { deleted: false };
    return { deleted: await removeSetOf(db, userId) };
  });
}

/**
 * Deletes the user's set (if any) and takes it out of the counts, in the caller's transaction, which
 * holds the user's row lock already. Deleting the user row would cascade to the set without a word to the
 * counters, so whoever deletes a user calls this first. Returns whether there was a set.
 */
export async function removeSetOf(db: Kysely<Database>, userId: string): Promise<boolean> {
  const old = await deleteSetOf(db, userId);
  if (old !== undefined) await adjustSetCounts(db, [{ ...old, delta: -1 }]);
  return old !== undefined;
}

async function bumpCodeSetVersion(db: Kysely<Database>, userId: string): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set((eb) => ({ code_set_version: eb('code_set_version', '+', 1) }))
    .where('id', '=', userId)
    .executeTakeFirst();
  return changedExactlyOne(result);
}

/** Codes first, then the set: see the lock order above. Returns where the deleted set was counted. */
async function deleteSetOf(db: Kysely<Database>, userId: string): Promise<CountedAt | undefined> {
  await db
    .deleteFrom('recovery_codes')
    .where('set_id', 'in', (eb) =>
      eb.selectFrom('recovery_code_sets').select('id').where('user_id', '=', userId),
    )
    .execute();
  const deleted = await db
    .deleteFrom('recovery_code_sets')
    .where('user_id', '=', userId)
    .returning(['remaining', 'count_shard'])
    .executeTakeFirst();
  return deleted && { remaining: deleted.remaining, shard: deleted.count_shard };
}

/** A counter row: a `remaining` value and one of its shards. */
interface CountedAt {
  remaining: number;
  shard: number;
}

/**
 * Moves sets between counter rows in the same transaction as the change itself, so the counts are exact.
 * A set leaves the very row it was counted in (its `count_shard`). Rows are touched in ascending
 * (remaining, shard) order, so two transactions never lock them in opposite order.
 */
async function adjustSetCounts(db: Kysely<Database>, changes: readonly (CountedAt & { delta: number })[]) {
  const merged = new Map<string, CountedAt & { delta: number }>();
  for (const change of changes) {
    const key = `${change.remaining}:${change.shard}`;
    const seen = merged.get(key);
    merged.set(key, { ...change, delta: (seen?.delta ?? 0) + change.delta });
  }
  const ordered = [...merged.values()].sort((a, b) => a.remaining - b.remaining || a.shard - b.shard);
  for (const { remaining, shard, delta } of ordered) {
    if (delta === 0) continue;
    if (delta < 0) {
      // A set leaving a row was counted into it, so the row exists (the CHECK catches a drift).
      await subtractSetCount(db, [delta, remaining, shard]);
      continue;
    }
    await addSetCount(db, [remaining, shard, delta, delta]);
  }
}

export async function getRecoveryCodeSetCounts(
  ctx: StoreContext,
): Promise<{ remaining: number; sets: number }[]> {
  // One statement, one snapshot: every shard of a count read at the same moment.
  const rows = await ctx.db
    .selectFrom('recovery_code_set_counts')
    .select((eb) => ['remaining', eb.fn.sum<number | string>('sets').as('sets')])
    .groupBy('remaining')
    .having((eb) => eb.fn.sum('sets'), '>', 0)
    .orderBy('remaining')
    .execute();
  return rows.map((row) => ({ remaining: row.remaining, sets: Number(row.sets) }));
}
