import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { givenUser, newCodeSet, T0 } from '../../src/store/contract/fixtures.js';
import { counterShardOf } from '../../src/store/kysely/counter-shards.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { finishesWhileHeld, idInShard } from '../helpers/lock-probe.js';
import { postgresAvailable, testDatabaseUrl, uniqueSchemaName } from '../helpers/postgres.js';

/**
 * Issue 25: a recovery transaction takes no lock shared by unrelated users. Every code use moves its set
 * between two `remaining` counter rows and holds their locks to commit; with one row per count, a user
 * whose set held the same count as another's waited for that other user's whole transaction. The rows
 * are now sharded by owner (src/store/kysely/recovery-codes.ts): one user's open transaction holds only
 * its own shard. (SQLite has one writer at a time, so this is PostgreSQL's alone.)
 */
describe.skipIf(!postgresAvailable())('PostgreSQL: recovery-code set counters sharded by owner', () => {
  let opened: OpenedStore;
  const schema = uniqueSchemaName('set_count_shards');

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

  /** A user whose id falls in (or out of) `shard`, with a set of 5 codes. */
  async function userWithCodes(inShard: (shard: number) => boolean) {
    const id = idInShard(inShard);
    const user = await givenUser(opened.store, { id });
    const set = newCodeSet(5);
    await opened.store.replaceRecoveryCodeSet(user.id, set);
    return { user, set, shard: counterShardOf(id) };
  }

  /**
   * Holds `first`'s code use open in a transaction while `second` uses one of its own codes with the same
   * count; says whether the second finished before the first committed.
   */
  async function secondFinishesWhileFirstIsOpen(
    first: { set: { id: string } },
    second: { set: { id: string } },
  ) {
    const { finishedFirst, result } = await finishesWhileHeld(
      opened.store,
      async (tx) => {
        expect(await tx.consumeRecoveryCode(first.set.id, 0, T0)).toMatchObject({
          consumed: true,
          remaining: 4,
        });
      },
      () => opened.store.consumeRecoveryCode(second.set.id, 0, T0),
    );
    expect(result).toMatchObject({ consumed: true, remaining: 4 });
    return finishedFirst;
  }

  test('a user in another shard uses a code while one user’s recovery transaction is still open', async () => {
    const first = await userWithCodes(() => true);
    const second = await userWithCodes((shard) => shard !== first.shard);
    expect(await secondFinishesWhileFirstIsOpen(first, second)).toBe(true);
    const counts = await opened.store.getRecoveryCodeSetCounts();
    expect(counts).toEqual([{ remaining: 4, sets: 2 }]);
  });

  test('the probe detects a shared row: two owners of one shard still meet on it (1 in 128)', async () => {
    const first = await userWithCodes(() => true);
    const second = await userWithCodes((shard) => shard === first.shard);
    expect(await secondFinishesWhileFirstIsOpen(first, second)).toBe(false);
  });
});
