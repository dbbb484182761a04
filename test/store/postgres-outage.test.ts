import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, test } from 'vitest';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { postgresAvailable, testDatabaseUrl, uniqueSchemaName } from '../helpers/postgres.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

/**
 * The database host going away mid-query (found by the /readyz outage test, test/http/operations.test.ts):
 * the query in flight is rejected, and nothing else happens. pg emits 'error' on a checked-out client whose
 * connection drops, and pg-pool listens only to idle ones; unheard, that event crashed the server process.
 */
describe.skipIf(!postgresAvailable())('PostgreSQL connection cut mid-query', () => {
  let proxy: TcpProxy | undefined;
  let opened: OpenedStore | undefined;
  const schema = uniqueSchemaName('outage');
  afterEach(async () => {
    await opened?.close();
    await proxy?.stop();
    const client = new pg.Client({ connectionString: testDatabaseUrl });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  });

  test('the query is rejected, no error escapes to the process, and the store answers once the server is back', async () => {
    const server = new URL(testDatabaseUrl);
    proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    const throughProxy = new URL(testDatabaseUrl);
    throughProxy.host = `127.0.0.1:${proxy.port}`;
    opened = await openStore({ kind: 'postgres', url: throughProxy.toString(), schema, poolSize: 2 });
    const escaped: unknown[] = [];
    const onUncaught = (error: unknown) => escaped.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const slow = sql`select pg_sleep(5)`.execute(opened.db);
      const outcome = slow.then(
        () => 'answered',
        (error: Error) => error.message,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await proxy.stop();
      expect(await outcome).toMatch(/Connection terminated/);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(escaped).toEqual([]);

      await proxy.start();
      expect(await opened.store.getSetting('recovery_codes')).toBeUndefined();
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
