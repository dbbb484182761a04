import { sql } from 'kysely';
import { describe } from 'vitest';
import { defineStoreContract } from '../../src/store/contract/define-store-contract.js';
import { openStore } from '../../src/store/open-store.js';
import { postgresAvailable, testDatabaseUrl, uniqueSchemaName } from '../helpers/postgres.js';

describe.skipIf(!postgresAvailable())('PostgreSQL', () => {
  // A schema of its own per suite, dropped afterwards. A pool of 10 so the races run on parallel connections.
  defineStoreContract('postgres', async () => {
    const schema = uniqueSchemaName('store_contract');
    const opened = await openStore({ kind: 'postgres', url: testDatabaseUrl, schema, poolSize: 10 });
    return {
      ...opened,
      close: async () => {
        try {
          await sql`drop schema ${sql.id(schema)} cascade`.execute(opened.db);
        } finally {
          await opened.close();
        }
      },
    };
  });
});
