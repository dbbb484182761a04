import type { Kysely } from 'kysely';
import type { NewRecoveryCodeSet, RecoveryCodeRecord, RecoveryCodeSummary } from '../store.js';
import { changedExactlyOne, type StoreContext, toDate, toDateOrNull } from './context.js';
import type { Database } from './database.js';

/*
 * Lock order, the same in every method here so no two of them deadlock on PostgreSQL:
 * user row -> code rows -> set row -> (audit chain head, taken last by the caller).
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
    await deleteSetOf(db, userId);
    await db
      .insertInto('recovery_code_sets')
      .values({
        id: set.id,
        user_id: userId,
        generated_at: set.generatedAt.getTime(),
        total: set.codes.length,
        remaining: set.codes.length,
      })
      .execute();
    if (set.codes.length === 0) return;
    await db
      .insertInto('recovery_codes')
      .values(set.codes.map((code) => ({ set_id: set.id, slot: code.slot, digest: code.digest })))
      .execute();
  });
}

export async function findRecoveryCode(
  ctx: StoreContext,
  userId: string,
  slot: number,
): Promise<RecoveryCodeRecord | undefined> {
  const row = await ctx.db
    .selectFrom('recovery_codes as c')
    .innerJoin('recovery_code_sets as s', 's.id', 'c.set_id')
    .select(['c.set_id', 'c.slot', 'c.digest', 'c.used_at'])
    .where('s.user_id', '=', userId)
    .where('c.slot', '=', slot)
    .executeTakeFirst();
  return row && { setId: row.set_id, slot: row.slot, digest: row.digest, usedAt: toDateOrNull(row.used_at) };
}

export async function consumeRecoveryCode(
  ctx: StoreContext,
  setId: string,
  slot: number,
  at: Date,
): Promise<{ consumed: boolean }> {
  return ctx.atomic(async (db) => {
    // The owner's row lock first, as every writer of a user's codes takes it: a transaction that
    // consumes and then replaces the set (the rotate policy) or deletes it (disable_mfa) would otherwise
    // lock code -> set -> user while a regeneration locks user -> codes, and PostgreSQL would abort one
    // of them as a deadlock. Consumes of one user's codes serialize; different users never wait.
    await db
      .selectFrom('users')
      .select('id')
      .where('id', '=', (eb) => eb.selectFrom('recovery_code_sets').select('user_id').where('id', '=', setId))
      .$if(ctx.engine.supportsRowLocks, (query) => query.forNoKeyUpdate())
      .executeTakeFirst();
    // Single use like Kratos: one conditional UPDATE, then check that exactly one row changed. Under
    // PostgreSQL READ COMMITTED a second concurrent UPDATE of the same code waits on the row lock, then
    // re-evaluates `used_at IS NULL` against the first caller's committed row and changes 0 rows. If a
    // replacement deleted the set (and so the code) first, the row is gone and 0 rows change. SQLite runs
    // the whole transaction under BEGIN IMMEDIATE, one writer at a time, across processes too.
    const used = await db
      .updateTable('recovery_codes')
      .set({ used_at: at.getTime() })
      .where('set_id', '=', setId)
      .where('slot', '=', slot)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (!changedExactlyOne(used)) return { consumed: false };
    // The counter moves in the same transaction, relative to the committed value (`remaining - 1` is
    // evaluated after any concurrent consumer of another code commits), so two different codes used at
    // once both count and no consumed code is "resurrected" by a stale write-back.
    await db
      .updateTable('recovery_code_sets')
      .set((eb) => ({ remaining: eb('remaining', '-', 1), last_used_at: at.getTime() }))
      .where('id', '=', setId)
      .execute();
    return { consumed: true };
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

export async function deleteRecoveryCodeSet(
  ctx: StoreContext,
  userId: string,
): Promise<{ deleted: boolean }> {
  return ctx.atomic(async (db) => {
    // Same lock order as a replacement (user row first), so a deletion and a regeneration serialize.
    if (!(await bumpCodeSetVersion(db, userId))) return { deleted: false };
    return { deleted: await deleteSetOf(db, userId) };
  });
}

async function bumpCodeSetVersion(db: Kysely<Database>, userId: string): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set((eb) => ({ code_set_version: eb('code_set_version', '+', 1) }))
    .where('id', '=', userId)
    .executeTakeFirst();
  return changedExactlyOne(result);
}

/** Codes first, then the set: see the lock order above. */
async function deleteSetOf(db: Kysely<Database>, userId: string): Promise<boolean> {
  await db
    .deleteFrom('recovery_codes')
    .where('set_id', 'in', (eb) =>
      eb.selectFrom('recovery_code_sets').select('id').where('user_id', '=', userId),
    )
    .execute();
  const deleted = await db.deleteFrom('recovery_code_sets').where('user_id', '=', userId).executeTakeFirst();
  return deleted.numDeletedRows > 0n;
}
