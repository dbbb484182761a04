import { randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Database } from '../kysely/database.js';
import type { Engine } from '../kysely/engine.js';
import { createKyselyStore } from '../kysely/kysely-store.js';
import { migrateToLatest } from '../migrations/index.js';
import type { OpenedStore } from '../open-store.js';
import { type ConnectionState, groupCommit } from './group-commit.js';
import { withStatementCache } from './statement-cache.js';

/** How long a writer waits for another connection's (or process's) write lock before failing. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * The store connection's page cache, in KiB. better-sqlite3 builds SQLite with 16 MiB per connection
 * (SQLite's own default is 2 MiB), which a busy server fills: most of what a SQLite server process held
 * beyond a PostgreSQL one (issue 25: peak RSS under `npm run bench:audit` 157 MiB; docs/deployment.md).
 * The operating system's file cache still holds the file: a page not cached here costs one read call,
 * about 0.3 more per request under that bench at 4 MiB (1.5 at 2 MiB), none of them waiting on the disk.
 */
const PAGE_CACHE_KIB = 4000;

/**
 * SQLite has one writer at a time. BEGIN IMMEDIATE takes the write lock up front (waiting up to
 * busy_timeout for it), so transactions from several PROCESSES on one file queue up instead of a
 * deferred transaction failing with SQLITE_BUSY_SNAPSHOT when it upgrades a stale read to a write. Within
 * one process Kysely's SQLite driver has a single connection, and `connection()` holds it (behind
 * Kysely's mutex) for the whole callback, so nothing else interleaves with the transaction.
 */
async function immediateTransaction<T>(
  db: Kysely<Database>,
  work: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await work(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      // SQLite may already have rolled back by itself (e.g. on SQLITE_FULL); the original error is
      // the one worth reporting.
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw error;
    }
  });
}

/** The store's transactions: BEGIN IMMEDIATE as above, the concurrent ones sharing a commit (group-commit.ts). */
function sqliteEngine(connection: ConnectionState, watcher: ChangeWatcher | undefined): Engine {
  return {
    supportsRowLocks: false,
    transaction: groupCommit(connection),
    nowMs: sql<number>`cast((julianday('now') - 2440587.5) * 86400000 as integer)`,
    changeMark: () => watcher?.mark(),
  };
}

interface ChangeWatcher {
  mark(): number | undefined;
  close(): void;
}

/**
 * The store's change mark (`Store.getChangeMark`): `PRAGMA data_version` on a second connection to the file
 * that never writes (query_only). SQLite changes a connection's data_version whenever ANOTHER connection
 * commits, from this process (the store's own connection, which does all of its writing) or any other; a
 * connection's own commits would not move it, hence the second connection. The pragma opens a read
 * transaction, so it sees every commit acknowledged before it runs. An in-memory database has no second
 * connection (and no other process): no mark, so nothing is cached.
 */
function openChangeWatcher(path: string): ChangeWatcher | undefined {
  if (path === ':memory:' || path === '') return undefined;
  const watcher = new SqliteDatabase(path, { timeout: BUSY_TIMEOUT_MS, fileMustExist: true });
  try {
    watcher.pragma('query_only = ON');
    const version = watcher.prepare('PRAGMA data_version').pluck();
    return {
      mark: () => {
        try {
          return version.get() as number;
        } catch {
          // Busy for the whole timeout, or the file is gone: no mark, so the caller reads afresh.
          return undefined;
        }
      },
      close: () => watcher.close(),
    };
  } catch (error) {
    watcher.close();
    throw error;
  }
}

/**
 * WAL: readers never block the writer nor the writer readers. The switch is written into the file once;
 * it needs an exclusive lock, and when several processes open a fresh file at once SQLite answers
 * SQLITE_BUSY at once instead of calling the busy handler (two connections escalating from SHARED would
 * otherwise deadlock), so busy_timeout does not cover it: retry for as long as busy_timeout would wait.
 */
async function enableWal(database: SqliteDatabase.Database): Promise<void> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      const mode = database.pragma('journal_mode = WAL', { simple: true });
      // An in-memory database reports 'memory' and has no other process to share with.
      if (mode !== 'wal' && mode !== 'memory')
        throw new Error(`SQLite refused WAL mode (journal_mode = ${mode})`);
      return;
    } catch (error) {
      const busy = (error as { code?: unknown }).code === 'SQLITE_BUSY';
      if (!busy || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 + randomInt(20)));
    }
  }
}

export async function openSqliteStore(path: string): Promise<OpenedStore> {
  if (path !== ':memory:') await mkdir(dirname(path), { recursive: true });
  const database = new SqliteDatabase(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    // busy_timeout first: most locks below (and every later transaction) wait through it.
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    await enableWal(database);
    // FULL: fsync at every commit, so a write we acknowledged survives a power loss or crash.
    database.pragma('synchronous = FULL');
    // Off by default in SQLite, per connection; the schema's ON DELETE CASCADE relies on it.
    database.pragma('foreign_keys = ON');
    // Negative: a size in KiB, not in pages.
    database.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  } catch (error) {
    database.close();
    throw error;
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  try {
    // Inside our own BEGIN IMMEDIATE (Kysely's SQLite migration lock is a no-op that assumes one
    // process), so several processes opening a fresh file at once migrate it exactly once.
    await immediateTransaction(db, (trx) => migrateToLatest(trx, { disableTransactions: true }));
  } catch (error) {
    await db.destroy();
    throw error;
  }
  let watcher: ChangeWatcher | undefined;
  try {
    watcher = openChangeWatcher(path);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const close = async () => {
    watcher?.close();
    await db.destroy();
  };
  return { store: createKyselyStore(db, sqliteEngine(database, watcher)), db, close };
}
