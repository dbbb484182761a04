import type { Kysely } from 'kysely';
import type { Database } from './database.js';
import type { Engine } from './engine.js';

/** What every query function receives: the handle to run on and a way to be atomic. */
export interface StoreContext {
  /** The root handle, or the connection of the transaction this store runs in. */
  readonly db: Kysely<Database>;
  readonly engine: Engine;
  /**
   * Runs `work` atomically: inside the caller's transaction when there is one (so it commits or rolls
   * back with the caller's other writes), else in a transaction of its own.
   */
  atomic<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T>;
}

export const toDate = (ms: number): Date => new Date(ms);
export const toDateOrNull = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

/** Kysely reports affected rows as bigint; single-use decisions compare against exactly one. */
export const changedExactlyOne = (result: { numUpdatedRows: bigint }): boolean =>
  result.numUpdatedRows === 1n;

/**
 * Takes the user's row lock for the rest of the transaction (PostgreSQL), serializing every writer of
 * that user's credentials. NO KEY UPDATE, not UPDATE, so it does not wait for the KEY SHARE locks that
 * inserts of the user's factors or codes take through their foreign keys. On SQLite the transaction
 * already holds the write lock. Returns whether the user exists.
 */
export async function lockUser(ctx: StoreContext, db: Kysely<Database>, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('id', '=', userId)
    .$if(ctx.engine.supportsRowLocks, (query) => query.forNoKeyUpdate())
    .executeTakeFirst();
  return row !== undefined;
}
