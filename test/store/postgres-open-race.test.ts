import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrations } from '../../src/store/migrations/index.js';
import type { OpenedStore } from '../../src/store/open-store.js';
import { openPostgresStore } from '../../src/store/postgres/open-postgres.js';
import { postgresAvailable, testDatabaseUrl, uniqueSchemaName } from '../helpers/postgres.js';

/**
 * Opening stores while other connections create and drop schemas, as parallel test files (and their
 * cleanups) do. Kysely's own introspection resolved every schema of the database by name, so a schema
 * dropped mid-query failed an unrelated open with 3F000 (schema does not exist).
 */
describe.skipIf(!postgresAvailable())('PostgreSQL: opening stores concurrently', () => {
  const STORES = 24;
  const created = new Set<string>();

  afterAll(async () => {
    const client = new pg.Client({ connectionString: testDatabaseUrl });
    await client.connect();
    try {
      for (const schema of created) await client.query(`drop schema if exists "${schema}" cascade`);
    } finally {
      await client.end();
    }
  });

  /** Creates and drops schemas (with a serial column, like real tables) on its own connection until stopped. */
  function churnSchemas(prefix: string): { stop(): Promise<void> } {
    let stopped = false;
    const run = async (loop: number) => {
      const client = new pg.Client({ connectionString: testDatabaseUrl });
      await client.connect();
      try {
        for (let i = 0; !stopped; i += 1) {
          const schema = `${prefix}_${loop}_${i}`;
          created.add(schema);
          await client.query(`create schema "${schema}"`);
          await client.query(`create table "${schema}".t (id serial primary key, note text)`);
          await client.query(`drop schema "${schema}" cascade`);
        }
      } finally {
        await client.end();
      }
    };
    const done = Promise.all([1, 2, 3].map(run));
    return {
      stop: async () => {
        stopped = true;
        await done;
      },
    };
  }

  async function openAll(schemas: string[]): Promise<void> {
    for (const schema of schemas) created.add(schema);
    const churn = churnSchemas(uniqueSchemaName('open_race_churn'));
    const results = await Promise.allSettled(
      schemas.map((schema) => openPostgresStore({ url: testDatabaseUrl, schema, poolSize: 2 })),
    );
    await churn.stop();
    const opened = results.flatMap((result, index) =>
      result.status === 'fulfilled' ? [{ store: result.value, schema: schemas[index] as string }] : [],
    );
    try {
      expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
      for (const { store, schema } of opened) await expectMigrated(store, schema);
    } finally {
      await Promise.all(opened.map(({ store }) => store.close()));
    }
  }

  /** Every migration recorded once, in the store's own schema. */
  async function expectMigrated(opened: OpenedStore, schema: string): Promise<void> {
    const applied = await sql<{ name: string }>`
      select name from ${sql.id(schema, 'kysely_migration')} order by name`.execute(opened.db);
    expect(applied.rows.map((row) => row.name)).toEqual(Object.keys(migrations).sort());
  }

  it('opens many stores with distinct schemas at once', async () => {
    const base = uniqueSchemaName('open_race_distinct');
    await openAll(Array.from({ length: STORES }, (_, index) => `${base}_${index}`));
  });

  it('opens many stores with the same schema at once', async () => {
    const schema = uniqueSchemaName('open_race_same');
    await openAll(Array.from({ length: STORES }, () => schema));
  });
});
