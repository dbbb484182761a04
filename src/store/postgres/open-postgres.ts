import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from '../kysely/database.js';
import type { Engine } from '../kysely/engine.js';
import { createKyselyStore } from '../kysely/kysely-store.js';
import { migrateToLatest } from '../migrations/index.js';
import type { OpenedStore } from '../open-store.js';

export interface PostgresConfig {
  url: string;
  /** A schema of its own (created when missing); default: the server's search_path (usually public). */
  schema?: string;
  /** Maximum pooled connections; default 10. */
  poolSize?: number;
}

/**
 * Default READ COMMITTED transactions. Every race-prone write in ../kysely is a single conditional UPDATE
 * or begins by locking a row (user row, chain head); READ COMMITTED re-evaluates a waiting UPDATE's
 * condition against the committed row, and each later statement sees what the lock holder committed.
 * That gives the single-use guarantees without SERIALIZABLE's retry loops.
 */
export const postgresEngine: Engine = {
  supportsRowLocks: true,
  transaction: async (db, work) => {
    // Lock orders are fixed (see ../kysely/recovery-codes.ts), but a transaction that changes the
    // operator's settings between two of its own steps could still meet another in a deadlock; PostgreSQL
    // then rolls one back whole, so running it again is safe (its work is database statements only).
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await db.transaction().execute(work);
      } catch (error) {
        if (attempt >= MAX_TRANSACTION_ATTEMPTS || !isRetryable(error)) throw error;
      }
    }
  },
};

const MAX_TRANSACTION_ATTEMPTS = 3;
/** deadlock_detected, serialization_failure. */
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);
const isRetryable = (error: unknown) =>
  typeof error === 'object' &&
  error !== null &&
  RETRYABLE_SQLSTATES.has((error as { code?: string }).code ?? '');

/** Schema names go into a connection option and DDL, so only plain identifiers are accepted. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * int8 (bigint) as a JS number, for this pool only (not pg's global type registry, which would change
 * every other pg user in the process). Our int8 values are epoch milliseconds, seqs and TOTP steps, far
 * below 2^53; a value beyond it is refused rather than silently rounded.
 */
const INT8_OID = 20;
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`int8 value ${text} exceeds the safe integer range`);
  return value;
}
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID
      ? parseInt8
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export async function openPostgresStore(config: PostgresConfig): Promise<OpenedStore> {
  const { schema } = config;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}: use [a-z_][a-z0-9_]*`);
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize ?? 10,
    types,
    // Set at connect time on every pooled connection, so no query can run in the wrong schema.
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  // An idle client that fails (server restart) is dropped by the pool; without a listener the 'error'
  // event would crash the process. The next query reports the outage through its own rejection.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    if (schema !== undefined) await createSchemaIfMissing(db, schema);
    // The bookkeeping tables go in our schema explicitly: without it, Kysely's existence check looks in
    // every schema and would skip creating them when another schema of the database already has them.
    await migrateToLatest(db, { migrationTableSchema: schema ?? 'public' });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { store: createKyselyStore(db, postgresEngine), db, close: () => db.destroy() };
}

async function createSchemaIfMissing(db: Kysely<Database>, schema: string): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (error) {
    // Two processes creating it at once: IF NOT EXISTS can still fail on the catalog's unique index.
    const found = await sql`select 1 from pg_namespace where nspname = ${schema}`.execute(db);
    if (found.rows.length === 0) throw error;
  }
}
