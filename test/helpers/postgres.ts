import pg from 'pg';
import { inject } from 'vitest';

/**
 * The PostgreSQL the tests use: SPAREKEY_TEST_DATABASE_URL, or the machine's local server with trust
 * auth. Each test file works in a schema of its own, so files can run in parallel.
 */
export const testDatabaseUrl =
  process.env.SPAREKEY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sparekey_test';

/** Under CI=true a missing PostgreSQL is a failure, never a skip. */
export const postgresRequired = process.env.CI === 'true' || process.env.SPAREKEY_REQUIRE_POSTGRES === '1';

/** Creates the test database when missing. Returns false only when PostgreSQL is unreachable and not required. */
export async function ensureTestDatabase(): Promise<boolean> {
  const url = new URL(testDatabaseUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  const admin = new URL(testDatabaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (error) {
    if (postgresRequired) {
      throw new Error(`PostgreSQL is required (CI=true) but unreachable at ${admin.host}: ${String(error)}`);
    }
    return false;
  }
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) {
      await client.query(`create database "${database.replaceAll('"', '""')}"`).catch((error: unknown) => {
        // Another process may have created it at the same moment.
        if (!String(error).includes('already exists')) throw error;
      });
    }
    return true;
  } finally {
    await client.end();
  }
}

/** Runs `work` on one connection to the test database (for CREATE/DROP DATABASE and the like), then closes it. */
export async function withTestDatabaseClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testDatabaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh schema name for one test file or suite. */
export function uniqueSchemaName(prefix: string): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`.toLowerCase();
}

/** Whether PostgreSQL tests run (decided once by the global setup; always true under CI=true). */
export function postgresAvailable(): boolean {
  return inject('postgresAvailable');
}
