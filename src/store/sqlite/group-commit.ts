import { type Kysely, sql } from 'kysely';
import type { Database } from '../kysely/database.js';

/** At most this many transactions share one commit, so a batch never holds the write lock for long. */
const MAX_MEMBERS_PER_COMMIT = 64;

type Work<T> = (trx: Kysely<Database>) => Promise<T>;

interface Member {
  work: Work<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** What the group commit needs to know of the connection: whether SQLite still has the batch open. */
export interface ConnectionState {
  readonly inTransaction: boolean;
}

/**
 * Group commit: the transactions that are asked for in the same turn of the event loop run one after
 * another inside one BEGIN IMMEDIATE ... COMMIT, each in a savepoint of its own, and share that commit's
 * fsync. The fsync is most of what a small durable transaction costs (better-sqlite3 runs it on Node's
 * only thread), so under concurrent load this is most of the write throughput.
 *
 * What each caller sees is unchanged:
 * - isolation: the members run strictly one after another on the single connection, so each sees the
 *   ones before it, as if they had committed just before it started (a serial order, like before);
 * - atomicity: a member that throws is rolled back to its savepoint and rejected; the others go on;
 * - durability: no member's promise resolves before the shared COMMIT has returned (synchronous=FULL:
 *   fsynced), and if that commit fails, or SQLite abandoned the whole transaction, every member in the
 *   batch is rejected: none was acknowledged, so nothing acknowledged is lost.
 *
 * The batch starts on setImmediate, after the event loop's poll phase has handed out every request, KDF
 * result and socket read that was ready, so those that reach a transaction in that turn share it. A lone
 * transaction pays one loop turn of latency (microseconds).
 */
export function groupCommit(connection: ConnectionState) {
  const waiting: Member[] = [];
  let scheduled = false;

  const schedule = (db: Kysely<Database>) => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => void runOneBatch(db));
  };

  /** One batch per hold of the connection, so reads queued behind it get their turn between batches. */
  async function runOneBatch(db: Kysely<Database>): Promise<void> {
    try {
      await db.connection().execute((conn) => runBatch(conn));
    } catch (error) {
      // The connection could not be had (the store was closed): nobody else will run these.
      for (const member of waiting.splice(0)) member.reject(error);
    } finally {
      scheduled = false;
      if (waiting.length > 0) schedule(db);
    }
  }

  async function runBatch(conn: Kysely<Database>): Promise<void> {
    try {
      await sql`begin immediate`.execute(conn);
    } catch (error) {
      // The write lock stayed with another process for the whole busy timeout: each of these would
      // have failed alone the same way.
      for (const member of waiting.splice(0)) member.reject(error);
      return;
    }
    const committed: { member: Member; value: unknown }[] = [];
    let current: Member | undefined;
    try {
      while (waiting.length > 0 && committed.length < MAX_MEMBERS_PER_COMMIT) {
        current = waiting.shift() as Member;
        // The first member needs no savepoint: if it fails, the transaction holds nothing else and is
        // rolled back whole (a lone transaction runs exactly as it would without grouping).
        const savepoint = committed.length > 0;
        if (savepoint) await sql`savepoint member`.execute(conn);
        let value: unknown;
        try {
          value = await current.work(conn);
        } catch (error) {
          // SQLite ends the whole transaction by itself on some errors (SQLITE_FULL, IOERR, NOMEM):
          // then the members before this one are gone too.
          if (!savepoint || !connection.inTransaction) throw error;
          await sql`rollback to member`.execute(conn);
          await sql`release member`.execute(conn);
          current.reject(error);
          current = undefined;
          continue;
        }
        if (savepoint) await sql`release member`.execute(conn);
        committed.push({ member: current, value });
        current = undefined;
      }
      await sql`commit`.execute(conn);
    } catch (error) {
      if (connection.inTransaction) await sql`rollback`.execute(conn).catch(() => undefined);
      current?.reject(error);
      for (const { member } of committed) member.reject(error);
      return;
    }
    for (const { member, value } of committed) member.resolve(value);
  }

  return function transaction<T>(db: Kysely<Database>, work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      waiting.push({ work, resolve: resolve as (value: unknown) => void, reject });
      schedule(db);
    });
  };
}
