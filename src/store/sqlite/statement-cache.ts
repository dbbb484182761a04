import type SqliteDatabase from 'better-sqlite3';
import type { SqliteDatabase as KyselySqliteDatabase } from 'kysely';

/** Enough for every distinct query SpareKey runs; IN-lists of many lengths just cycle out. */
const DEFAULT_CAPACITY = 512;

/**
 * Kysely's SQLite driver prepares every query anew, and compiling a statement costs more than running
 * the small indexed queries SpareKey issues (a recovery-code attempt runs ~25 of them). This keeps the
 * compiled statements by SQL text. SQLite re-prepares a cached statement by itself when the schema
 * changes. A statement that is still being iterated (a streamed read) is busy and cannot run a second time
 * at once, so that caller gets a fresh one.
 */
export function withStatementCache(
  database: SqliteDatabase.Database,
  capacity = DEFAULT_CAPACITY,
): KyselySqliteDatabase {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => {
      statements.clear();
      database.close();
    },
    prepare(sql) {
      const cached = statements.get(sql);
      if (cached && !cached.busy) return cached;
      const statement = database.prepare(sql);
      if (!cached) {
        // Oldest first: Map keeps insertion order.
        if (statements.size >= capacity) statements.delete(statements.keys().next().value as string);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
