import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { counterShardOf } from '../../src/store/kysely/counter-shards.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { finishesWhileHeld, idInShard } from '../helpers/lock-probe.js';
import { postgresAvailable, testDatabaseUrl, uniqueSchemaName } from '../helpers/postgres.js';

/**
 * Issue 25: an OpenID Connect sign-in takes no lock shared by unrelated users. The transaction that issues
 * the authorization code counts the sign-in for the statistics and holds that counter row's lock to
 * commit; with one row per application and quarter hour, every user signing in to one application waited
 * for the others' transactions. The rows are now sharded by user (decision 0011). SQLite has one writer
 * at a time, so this is PostgreSQL's alone; the counts' exactness is in the store contract (both engines).
 */
describe.skipIf(!postgresAvailable())('PostgreSQL: OpenID Connect sign-in counters sharded by user', () => {
  let opened: OpenedStore;
  const schema = uniqueSchemaName('oidc_count_shards');
  const at = new Date(1_790_000_000_000);

  beforeAll(async () => {
    opened = await openStore({ kind: 'postgres', url: testDatabaseUrl, schema, poolSize: 4 });
  });
  afterAll(async () => {
    try {
      await sql`drop schema ${sql.id(schema)} cascade`.execute(opened.db);
    } finally {
      await opened.close();
    }
  });

  /** Holds `first`'s sign-in open in a transaction while `second` signs in to the same application. */
  async function secondFinishesWhileFirstIsOpen(clientId: string, first: string, second: string) {
    const { finishedFirst } = await finishesWhileHeld(
      opened.store,
      (tx) => tx.countOidcSignIn(clientId, first, at),
      () => opened.store.countOidcSignIn(clientId, second, at),
    );
    return finishedFirst;
  }

  test('a user of another shard signs in to the application while one user’s sign-in transaction is open', async () => {
    const first = idInShard(() => true);
    const second = idInShard((shard) => shard !== counterShardOf(first));
    expect(await secondFinishesWhileFirstIsOpen('app_one', first, second)).toBe(true);
    const counts = await opened.store.listOidcSignInCounts({
      from: at,
      to: new Date(at.getTime() + 900_000),
    });
    expect(counts.filter((row) => row.clientId === 'app_one').map((row) => row.events)).toEqual([2]);
  });

  test('the probe detects a shared row: two users of one shard still meet on it (1 in 128)', async () => {
    const first = idInShard(() => true);
    const second = idInShard((shard) => shard === counterShardOf(first));
    expect(await secondFinishesWhileFirstIsOpen('app_two', first, second)).toBe(false);
    const counts = await opened.store.listOidcSignInCounts({
      from: at,
      to: new Date(at.getTime() + 900_000),
    });
    expect(counts.filter((row) => row.clientId === 'app_two').map((row) => row.events)).toEqual([2]);
  });
});
