import {
  type DatabaseIntrospector,
  type DatabaseMetadata,
  Kysely,
  PostgresDialect,
  type PostgresDialectConfig,
  type SchemaMetadata,
  sql,
  type TableMetadata,
} from 'kysely';
import pg from 'pg';
import { preparedStatementName } from '../kysely/compiled-once.js';
import type { Database } from '../kysely/database.js';
import type { Engine } from '../kysely/engine.js';
import { createKyselyStore } from '../kysely/kysely-store.js';
import { migrateToLatest } from '../migrations/index.js';
import type { OpenedStore } from '../open-store.js';
import { coalescingSocket } from './coalescing-socket.js';

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
  writesInWith: true,
  // No cheap, sound equivalent of SQLite's data_version: every read goes to the database.
  changeMark: () => undefined,
  nowMs: sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`,
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
    // A statement's protocol messages leave in one system call (coalescing-socket.ts).
    stream: coalescingSocket,
    // Set at connect time on every pooled connection, so no query can run in the wrong schema.
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  // An idle client that fails (server restart) is dropped by the pool; without a listener the 'error'
  // event would crash the process. The next query reports the outage through its own rejection.
  pool.on('error', () => undefined);
  // pg-pool listens to a client only while it is idle: one whose connection drops while checked out (mid-query,
  // or handed out before the pool saw the drop) emits an 'error' nobody hears, which crashes the process.
  // Its query is rejected all the same, and the pool drops it on release (it is no longer queryable).
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    prepareCompiledStatements(client);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const migrationTableSchema = schema ?? 'public';
  try {
    if (schema !== undefined) await createSchemaIfMissing(db, schema);
    // The bookkeeping tables go in our schema explicitly: without it, Kysely's existence check looks in
    // every schema and would skip creating them when another schema of the database already has them.
    // The migrator runs on the same pool through a dialect that introspects only that schema (see
    // OneSchemaIntrospector). That Kysely is never destroyed: destroying it would end the shared pool.
    const migrationDb = new Kysely<Database>({
      dialect: new OneSchemaPostgresDialect(migrationTableSchema, { pool }),
    });
    await migrateToLatest(migrationDb, { migrationTableSchema });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { store: createKyselyStore(db, postgresEngine), db, close: () => db.destroy() };
}

/**
 * Runs the statements compiled once (../kysely/compiled-once.ts) as named prepared statements on this
 * connection: pg parses a name's statement on its first use per connection, then sends only Bind and
 * Execute, and PostgreSQL reuses the parse and, for these indexed statements, the plan. Everything else
 * (Kysely's text passed with its values) is sent as before.
 */
function prepareCompiledStatements(client: pg.PoolClient): void {
  const query = client.query;
  client.query = function (this: pg.PoolClient, ...args: unknown[]) {
    const [text, values] = args;
    const name = typeof text === 'string' && args.length === 2 ? preparedStatementName(text) : undefined;
    // biome-ignore lint/suspicious/noExplicitAny: forwarding the driver's overloads as they are
    const forward = query as any;
    return name === undefined ? forward.apply(this, args) : forward.call(this, { name, text, values });
  } as typeof client.query;
}

/** Concurrent creators of one schema: how many times a lost race is retried before giving up. */
const CREATE_SCHEMA_ATTEMPTS = 3;
/** unique_violation: IF NOT EXISTS checks first, so two creators can both pass it and meet on the unique index. */
const UNIQUE_VIOLATION = '23505';

async function createSchemaIfMissing(db: Kysely<Database>, schema: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
      return;
    } catch (error) {
      // The loser waited for the winner's transaction, so a committed schema is visible now. If the
      // winner rolled back instead, nothing is there and creating it again can succeed.
      const found = await sql`select 1 from pg_namespace where nspname = ${schema}`.execute(db);
      if (found.rows.length > 0) return;
      if (attempt >= CREATE_SCHEMA_ATTEMPTS || sqlState(error) !== UNIQUE_VIOLATION) throw error;
    }
  }
}

const sqlState = (error: unknown) =>
  typeof error === 'object' && error !== null ? (error as { code?: string }).code : undefined;

/**
 * What Kysely's migrator asks the introspector (does our schema exist, do its bookkeeping tables exist),
 * answered from one schema only. PostgresIntrospector.getTables reads every table of the database and
 * resolves each schema and table by name (has_schema_privilege(nspname, ...), pg_get_serial_sequence).
 * Those lookups see the catalog as it is now, not as of the query's snapshot, so a schema that another
 * connection drops while the query runs (a parallel test file's cleanup, a tenant being removed) fails
 * opening this store with 3F000 (schema does not exist, from get_namespace_oid) or 42703/42P01. Here the
 * catalogs are joined by OID and filtered to our schema, so nothing of another schema is looked up by
 * name. Tables come without columns: the migrator reads only names, and nothing else uses this dialect.
 */
class OneSchemaIntrospector implements DatabaseIntrospector {
  constructor(
    private readonly db: Kysely<unknown>,
    private readonly schema: string,
  ) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const result = await sql<{ name: string }>`
      select nspname as name from pg_catalog.pg_namespace where nspname = ${this.schema}`.execute(this.db);
    return result.rows.map((row) => ({ name: row.name }));
  }

  async getTables(): Promise<TableMetadata[]> {
    const result = await sql<{ name: string; is_view: boolean }>`
      select c.relname as name, c.relkind = 'v' as is_view
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${this.schema} and c.relkind in ('r', 'v', 'p')`.execute(this.db);
    return result.rows.map((row) => ({
      name: row.name,
      schema: this.schema,
      isView: row.is_view,
      columns: [],
    }));
  }

  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() };
  }
}

class OneSchemaPostgresDialect extends PostgresDialect {
  constructor(
    private readonly schema: string,
    config: PostgresDialectConfig,
  ) {
    super(config);
  }

  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new OneSchemaIntrospector(db, this.schema);
  }
}
