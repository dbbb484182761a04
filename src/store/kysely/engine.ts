import type { Kysely, RawBuilder } from 'kysely';
import type { Database } from './database.js';

/**
 * What differs between the engines, as capabilities (like Kysely's dialect adapters), so the queries in
 * this folder are written once and never ask which engine they run on.
 */
export interface Engine {
  /**
   * Runs `work` in one new transaction on a connection of its own, committing when it resolves and
   * rolling back when it throws. SQLite: BEGIN IMMEDIATE; PostgreSQL: READ COMMITTED.
   */
  transaction<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * Whether `SELECT ... FOR NO KEY UPDATE` exists. PostgreSQL needs it to serialize writers on a row;
   * SQLite has no row locks and needs none, because BEGIN IMMEDIATE already holds the single write lock.
   */
  readonly supportsRowLocks: boolean;
  /**
   * Whether a statement's WITH may hold INSERT, UPDATE and DELETE (PostgreSQL), so the steps of a write
   * that every request makes can go to the database as one statement, one round trip. Absent: no (SQLite,
   * where each statement is a call in the process and costs no round trip anyway).
   */
  readonly writesInWith?: boolean;
  /**
   * The database's clock in epoch milliseconds, as an SQL expression: leases shared by every instance
   * (the audit sealer's) are timed on the one clock they all see, not on each instance's own.
   */
  readonly nowMs: RawBuilder<number>;
  /**
   * A number that moves whenever a write is committed to the database by any connection of any process
   * (this process's own included), read synchronously; undefined when the engine has no cheap way to tell
   * (PostgreSQL, an in-memory SQLite database) or the read failed. See `Store.getChangeMark`.
   */
  changeMark(): number | undefined;
}
