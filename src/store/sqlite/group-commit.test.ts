import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { Database } from '../kysely/database.js';
import { groupCommit } from './group-commit.js';

// A real SQLite file; the tables are the test's own, reached through Kysely's untyped `sql`.
let dir: string;
let path: string;
let raw: SqliteDatabase.Database;
let db: Kysely<Database>;
let commits: number;
let transaction: ReturnType<typeof groupCommit>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sparekey-group-commit-'));
  path = join(dir, 'group.db');
  raw = new SqliteDatabase(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.pragma('foreign_keys = ON');
  raw.exec(`create table counter (n integer not null);
            insert into counter values (0);
            create table rows (v text primary key);
            create table parent (id integer primary key);
            create table child (parent_id integer references parent(id) deferrable initially deferred)`);
  commits = 0;
  // Counts the COMMIT statements Kysely's driver prepares: one per durable flush.
  const counted = {
    close: () => raw.close(),
    prepare: (text: string) => {
      if (text === 'commit') commits++;
      return raw.prepare(text);
    },
  };
  db = new Kysely<Database>({ dialect: new SqliteDialect({ database: counted }) });
  transaction = groupCommit(raw);
});
afterEach(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const insertRow = (trx: Kysely<Database>, v: string) => sql`insert into rows (v) values (${v})`.execute(trx);
const committedRows = () => {
  // A second connection sees only what was committed.
  const other = new SqliteDatabase(path, { readonly: true });
  try {
    return (other.prepare('select v from rows order by v').all() as { v: string }[]).map((r) => r.v);
  } finally {
    other.close();
  }
};

test('transactions asked for in the same turn share one commit, and each sees the ones before it', async () => {
  const increments = Array.from({ length: 50 }, () =>
    transaction(db, async (trx) => {
      const { rows } = await sql<{ n: number }>`select n from counter`.execute(trx);
      const n = (rows[0] as { n: number }).n + 1;
      await sql`update counter set n = ${n}`.execute(trx);
      return n;
    }),
  );
  // Serial order: every member read the value the previous one wrote.
  expect((await Promise.all(increments)).sort((a, b) => a - b)).toEqual(
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  expect(commits).toBe(1);
  expect(raw.prepare('select n from counter').get()).toEqual({ n: 50 });
});

test('a lone transaction commits at once, and a batch holds at most 64 transactions', async () => {
  await transaction(db, (trx) => insertRow(trx, 'alone'));
  expect(commits).toBe(1);
  await Promise.all(Array.from({ length: 100 }, (_, i) => transaction(db, (trx) => insertRow(trx, `r${i}`))));
  expect(commits).toBe(3);
  expect(committedRows()).toHaveLength(101);
});

test('a member that throws is rolled back alone and rejected; the others commit', async () => {
  const first = transaction(db, (trx) => insertRow(trx, 'a'));
  const failing = transaction(db, async (trx) => {
    await insertRow(trx, 'b');
    throw new Error('refused');
  });
  const third = transaction(db, (trx) => insertRow(trx, 'c'));
  await expect(failing).rejects.toThrow('refused');
  await first;
  await third;
  expect(committedRows()).toEqual(['a', 'c']);
  expect(commits).toBe(1);
});

test('no member is acknowledged before the shared commit has returned', async () => {
  let firstAcknowledged = false;
  const seenByFirst: string[][] = [];
  const first = transaction(db, (trx) => insertRow(trx, 'a')).then(() => {
    firstAcknowledged = true;
    seenByFirst.push(committedRows());
  });
  const second = transaction(db, async (trx) => {
    // Runs after the first member's work, inside the same open transaction.
    expect(firstAcknowledged).toBe(false);
    expect(committedRows()).toEqual([]);
    await insertRow(trx, 'b');
  });
  await Promise.all([first, second]);
  // When the first caller heard back, its row (and the batch's) was on disk for every other connection.
  expect(seenByFirst).toEqual([['a', 'b']]);
});

test('a commit that fails rejects every member of the batch and keeps nothing', async () => {
  const good = transaction(db, (trx) => insertRow(trx, 'a'));
  // A deferred foreign key is checked only at COMMIT, which then fails.
  const orphan = transaction(db, (trx) => sql`insert into child (parent_id) values (42)`.execute(trx));
  await expect(good).rejects.toThrow(/FOREIGN KEY/);
  await expect(orphan).rejects.toThrow(/FOREIGN KEY/);
  expect(committedRows()).toEqual([]);
  expect(raw.inTransaction).toBe(false);
  // The next transaction starts a batch of its own.
  await transaction(db, (trx) => insertRow(trx, 'later'));
  expect(committedRows()).toEqual(['later']);
});

test('when SQLite abandons the whole transaction, the members before are rejected too; later ones run', async () => {
  const before = transaction(db, (trx) => insertRow(trx, 'a'));
  const abandoning = transaction(db, async (trx) => {
    await insertRow(trx, 'b');
    // What SQLite does by itself on SQLITE_FULL or an I/O error: the transaction is gone.
    await sql`rollback`.execute(trx);
    throw new Error('disk full');
  });
  const after = transaction(db, (trx) => insertRow(trx, 'c'));
  await expect(before).rejects.toThrow('disk full');
  await expect(abandoning).rejects.toThrow('disk full');
  await after;
  expect(committedRows()).toEqual(['c']);
});

test('when the first member of a batch throws, it is rolled back alone and the rest run', async () => {
  const failing = transaction(db, async (trx) => {
    await insertRow(trx, 'a');
    throw new Error('refused');
  });
  const second = transaction(db, (trx) => insertRow(trx, 'b'));
  const third = transaction(db, (trx) => insertRow(trx, 'c'));
  await expect(failing).rejects.toThrow('refused');
  await second;
  await third;
  expect(committedRows()).toEqual(['b', 'c']);
});
