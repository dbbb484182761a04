import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compiledOnce } from '../../src/store/kysely/compiled-once.js';
import type { OpenedStore } from '../../src/store/open-store.js';
import { openPostgresStore } from '../../src/store/postgres/open-postgres.js';
import {
  postgresAvailable,
  testDatabaseUrl,
  uniqueSchemaName,
  withTestDatabaseClient,
} from '../helpers/postgres.js';

// SQL of their own (a prepared name goes with the SQL, and the store's getSetting is the plain lookup).
const named = compiledOnce(
  'preparedTestNamed',
  (db) => db.selectFrom('settings').select('value').where('key', '=', '').where('updated_at', 'is not', null),
  1,
);
const everyColumn = compiledOnce(
  'preparedTestEveryColumn',
  (db) => db.selectFrom('settings').selectAll().where('key', '=', '').where('updated_at', 'is not', null),
  1,
);

/**
 * The statements compiled once run as named prepared statements on PostgreSQL (parsed once per connection),
 * except those reading every column (`*`): another instance's migration adding a column would change their
 * prepared result, which PostgreSQL refuses to run.
 */
describe.skipIf(!postgresAvailable())('PostgreSQL prepared statements', () => {
  const schema = uniqueSchemaName('prepared');
  let opened: OpenedStore;
  beforeAll(async () => {
    opened = await openPostgresStore({ url: testDatabaseUrl, schema, poolSize: 1 });
    await opened.store.putSetting('a', { n: 1 }, new Date(0));
  });
  afterAll(async () => {
    await opened?.close();
    await withTestDatabaseClient((client) => client.query(`drop schema if exists "${schema}" cascade`));
  });

  test('a statement with named columns is prepared once on its connection and answers as before', async () => {
    await opened.db.transaction().execute(async (tx) => {
      for (const key of ['a', 'b', 'a']) {
        expect((await named(tx, [key])).rows).toEqual(key === 'a' ? [{ value: '{"n":1}' }] : []);
        expect((await everyColumn(tx, [key])).rows).toHaveLength(key === 'a' ? 1 : 0);
      }
      const prepared = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(tx);
      const names = prepared.rows.map((row) => row.name);
      expect(names.filter((name) => name.endsWith('_preparedTestNamed'))).toHaveLength(1);
      expect(names.filter((name) => name.endsWith('_preparedTestEveryColumn'))).toEqual([]);
    });
  });

  test('a column added by a migration elsewhere does not break a prepared statement', async () => {
    await named(opened.db, ['a']);
    await withTestDatabaseClient((client) =>
      client.query(`alter table "${schema}".settings add column prepared_test_extra text`),
    );
    expect((await named(opened.db, ['a'])).rows).toEqual([{ value: '{"n":1}' }]);
    expect((await everyColumn(opened.db, ['a'])).rows[0]).toHaveProperty('prepared_test_extra', null);
  });
});
