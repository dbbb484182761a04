import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { counterShardOf } from '../../src/store/kysely/counter-shards.js';
import { migrations } from '../../src/store/migrations/index.js';
import type { OpenedStore } from '../../src/store/open-store.js';
import { openPostgresStore } from '../../src/store/postgres/open-postgres.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite.js';
import { postgresAvailable, testDatabaseUrl, withTestDatabaseClient } from '../helpers/postgres.js';

/**
 * Migration 0016 (issue 25, decision 0011): the sign-ins per application per quarter hour counted before
 * it move to shard 0 and stay exact; sign-ins after it are counted in their users' shards and the
 * statistics are the sum; down sums the shards back into one row per application and quarter hour.
 * Run on both engines, each on a database of its own migrated step by step.
 */
const names = Object.keys(migrations);
const before = names[names.indexOf('0016-oidc-sign-in-count-shards') - 1] as string;
const QUARTER = 15 * 60_000;
const bucket = 1_790_000_000_000 - (1_790_000_000_000 % QUARTER);
const migratorOn = (db: Kysely<unknown>) =>
  new Migrator({ db, provider: { getMigrations: async () => ({ ...migrations }) } });

interface Engine {
  /** A Kysely on the database with no application code in between. */
  raw(): Kysely<unknown>;
  open(): Promise<OpenedStore>;
}

async function countsSurviveTheMigration(engine: Engine) {
  const db = engine.raw();
  try {
    expect((await migratorOn(db).migrateTo(before)).error).toBeUndefined();
    // Two applications' counts, kept the old way (one row each per quarter hour).
    await sql`insert into oidc_sign_in_counts (client_id, bucket_start, events)
      values ('app_a', ${bucket}, 7), ('app_b', ${bucket}, 3), ('app_a', ${bucket + QUARTER}, 2)`.execute(db);
  } finally {
    await db.destroy();
  }

  const opened = await engine.open();
  try {
    const range = { from: new Date(bucket), to: new Date(bucket + 2 * QUARTER) };
    expect(await opened.store.listOidcSignInCounts(range)).toEqual([
      { clientId: 'app_a', bucketStart: new Date(bucket), events: 7 },
      { clientId: 'app_b', bucketStart: new Date(bucket), events: 3 },
      { clientId: 'app_a', bucketStart: new Date(bucket + QUARTER), events: 2 },
    ]);
    // 40 concurrent sign-ins by 20 users (most in shards other than 0), on top of the carried counts.
    const users = Array.from({ length: 20 }, (_, i) => `migrated-user-${i}`);
    expect(new Set(users.map(counterShardOf)).size).toBeGreaterThan(10);
    await Promise.all(
      [...users, ...users].map((user) =>
        opened.store.countOidcSignIn('app_a', user, new Date(bucket + 60_000)),
      ),
    );
    expect(await opened.store.listOidcSignInCounts(range)).toEqual([
      { clientId: 'app_a', bucketStart: new Date(bucket), events: 47 },
      { clientId: 'app_b', bucketStart: new Date(bucket), events: 3 },
      { clientId: 'app_a', bucketStart: new Date(bucket + QUARTER), events: 2 },
    ]);
  } finally {
    await opened.close();
  }

  const again = engine.raw();
  try {
    expect((await migratorOn(again).migrateTo(before)).error).toBeUndefined();
    const { rows } = await sql<{ client_id: string; bucket_start: number | string; events: number }>`
      select client_id, bucket_start, events from oidc_sign_in_counts order by bucket_start, client_id`.execute(
      again,
    );
    expect(rows.map((row) => [row.client_id, Number(row.bucket_start), Number(row.events)])).toEqual([
      ['app_a', bucket, 47],
      ['app_b', bucket, 3],
      ['app_a', bucket + QUARTER, 2],
    ]);
  } finally {
    await again.destroy();
  }
}

describe('migration 0016: OpenID Connect sign-in counters sharded by user', () => {
  test('SQLite: counts kept before it stay exact, concurrent sign-ins after it are summed, down sums back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sparekey-0016-'));
    const path = join(dir, 'sparekey.db');
    try {
      await countsSurviveTheMigration({
        raw: () =>
          new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SqliteDatabase(path) }) }),
        open: () => openSqliteStore(path),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.skipIf(!postgresAvailable())('PostgreSQL', () => {
    const database = `sparekey_0016_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const url = new URL(testDatabaseUrl);
    url.pathname = `/${database}`;
    afterAll(async () => {
      await withTestDatabaseClient((client) => client.query(`drop database if exists "${database}"`));
    });

    test('counts kept before it stay exact, concurrent sign-ins after it are summed, down sums back', async () => {
      await withTestDatabaseClient((client) => client.query(`create database "${database}"`));
      await countsSurviveTheMigration({
        raw: () =>
          new Kysely<unknown>({
            dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url.toString(), max: 2 }) }),
          }),
        open: () => openPostgresStore({ url: url.toString(), poolSize: 8 }),
      });
    });
  });
});
