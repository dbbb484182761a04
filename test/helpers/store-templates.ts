import { copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { testDatabaseUrl, withTestDatabaseClient } from './postgres.js';

/** The schema every template database is migrated in; each copy renames it to the test's own name. */
const TEMPLATE_SCHEMA = 'sparekey_template';

export interface StoreTemplates {
  /** A migrated SQLite file, closed (its WAL checkpointed away), to copy. */
  sqlitePath: string;
  /** A migrated PostgreSQL database to create copies from; null when PostgreSQL is unreachable. */
  postgresDatabase: string | null;
}

function urlOf(database: string): string {
  const url = new URL(testDatabaseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Runs once per test run (global setup): migrates one SQLite file and one PostgreSQL database. Every test
 * environment then starts from a copy instead of running all the migrations again: a file copy on SQLite,
 * `CREATE DATABASE ... TEMPLATE` on PostgreSQL (a few tens of milliseconds against several hundred for a
 * fresh schema's migrations). The copies are the very database the migrations produced, so nothing a test
 * checks changes; the migrations themselves stay tested by the store contract suites, which migrate their own.
 */
export async function createStoreTemplates(
  postgres: boolean,
): Promise<{ templates: StoreTemplates; remove(): Promise<void> }> {
  const sqlitePath = join(tmpdir(), `sparekey-template-${process.pid}.db`);
  rmSync(sqlitePath, { force: true });
  const sqlite = await openStore({ kind: 'sqlite', path: sqlitePath });
  await sqlite.close();
  let postgresDatabase: string | null = null;
  if (postgres) {
    postgresDatabase = `sparekey_template_${process.pid}`;
    const name = postgresDatabase;
    await withTestDatabaseClient(async (client) => {
      await client.query(`drop database if exists "${name}" with (force)`);
      await client.query(`create database "${name}"`);
    });
    const migrated = await openStore({
      kind: 'postgres',
      url: urlOf(name),
      schema: TEMPLATE_SCHEMA,
      poolSize: 1,
    });
    await migrated.close();
  }
  return {
    templates: { sqlitePath, postgresDatabase },
    remove: async () => {
      rmSync(sqlitePath, { force: true });
      if (postgresDatabase) {
        const name = postgresDatabase;
        await withTestDatabaseClient((client) =>
          client.query(`drop database if exists "${name}" with (force)`),
        );
      }
    },
  };
}

/** A migrated SQLite database file at `path`, copied from the run's template. */
export function copySqliteTemplate(path: string): void {
  copyFileSync(inject('storeTemplates').sqlitePath, path);
}

/**
 * A migrated PostgreSQL database of its own whose tables live in `schema`, copied from the run's template.
 * Returns its URL and how to drop it.
 */
export async function copyPostgresTemplate(schema: string): Promise<{ url: string; drop(): Promise<void> }> {
  const template = inject('storeTemplates').postgresDatabase;
  if (!template) throw new Error('PostgreSQL is unreachable: no template database');
  const database = `sparekey_${schema}`;
  await withTestDatabaseClient((client) =>
    client.query(`create database "${database}" template "${template}"`),
  );
  const url = urlOf(database);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`alter schema ${TEMPLATE_SCHEMA} rename to "${schema}"`);
  } finally {
    await client.end();
  }
  return {
    url,
    drop: () =>
      withTestDatabaseClient(
        async (admin) => void (await admin.query(`drop database if exists "${database}" with (force)`)),
      ),
  };
}
