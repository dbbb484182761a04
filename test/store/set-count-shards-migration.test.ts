import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import { migrations } from '../../src/store/migrations/index.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite.js';

/**
 * Migration 0015 (issue 25): the counts kept before it move to shard 0, where every set that existed
 * before it is counted (count_shard 0), so those sets leave the right row later and the counts stay
 * exact; down sums the shards back into one row per count.
 */
describe('migration 0015: recovery-code set counters sharded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sparekey-0015-'));
  const path = join(dir, 'sparekey.db');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The schema just before this migration. */
  const names = Object.keys(migrations);
  const before = names[names.indexOf('0015-set-count-shards') - 1] as string;
  const migratorOn = (db: Kysely<unknown>) =>
    new Migrator({ db, provider: { getMigrations: async () => ({ ...migrations }) } });

  test('counts kept before it stay exact through later uses, and down sums them back', async () => {
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SqliteDatabase(path) }) });
    expect((await migratorOn(db).migrateTo(before)).error).toBeUndefined();
    // A user with a set of 3, counted the old way.
    await sql`insert into users (id, email, email_normalized, password_hash, created_at)
      values ('u1', 'u1@example.test', 'u1@example.test', 'x', 0)`.execute(db);
    await sql`insert into recovery_code_sets (id, user_id, generated_at, total, remaining)
      values ('s1', 'u1', 0, 3, 3)`.execute(db);
    for (const slot of [0, 1, 2])
      await sql`insert into recovery_codes (set_id, slot, digest) values ('s1', ${slot}, 'd')`.execute(db);
    await sql`insert into recovery_code_set_counts (remaining, sets) values (3, 1)`.execute(db);
    await db.destroy();

    const opened = await openSqliteStore(path);
    try {
      expect(await opened.store.getRecoveryCodeSetCounts()).toEqual([{ remaining: 3, sets: 1 }]);
      expect(await opened.store.consumeRecoveryCode('s1', 1, new Date(1000))).toMatchObject({ remaining: 2 });
      expect(await opened.store.getRecoveryCodeSetCounts()).toEqual([{ remaining: 2, sets: 1 }]);
      // A new set is counted in its owner's shard; the old one left shard 0.
      await opened.store.replaceRecoveryCodeSet('u1', {
        id: 's2',
        generatedAt: new Date(2000),
        codes: [0, 1, 2, 3].map((slot) => ({ slot, digest: 'd' })),
      });
      expect(await opened.store.getRecoveryCodeSetCounts()).toEqual([{ remaining: 4, sets: 1 }]);
    } finally {
      await opened.close();
    }

    const again = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SqliteDatabase(path) }) });
    try {
      expect((await migratorOn(again).migrateTo(before)).error).toBeUndefined();
      const { rows } = await sql<{ remaining: number; sets: number }>`select remaining, sets
        from recovery_code_set_counts where sets > 0`.execute(again);
      expect(rows).toEqual([{ remaining: 4, sets: 1 }]);
    } finally {
      await again.destroy();
    }
  });
});
