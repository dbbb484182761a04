import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { withStatementCache } from './statement-cache.js';

let dir: string;
let database: SqliteDatabase.Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sparekey-statements-'));
  database = new SqliteDatabase(join(dir, 'cache.db'));
  database.exec('create table t (n integer)');
  database.exec('insert into t values (1), (2), (3)');
});
afterEach(() => {
  if (database.open) database.close();
  rmSync(dir, { recursive: true, force: true });
});

test('one SQL text is compiled once and the statement reused', () => {
  const cached = withStatementCache(database);
  const first = cached.prepare('select n from t where n = ?');
  expect(cached.prepare('select n from t where n = ?')).toBe(first);
  expect(cached.prepare('select n from t where n = ?').all([2])).toEqual([{ n: 2 }]);
});

test('a statement still being iterated is not handed out again: the caller gets a fresh one', () => {
  const cached = withStatementCache(database);
  const streaming = cached.prepare('select n from t order by n');
  const rows = streaming.iterate([]);
  expect(rows.next().value).toEqual({ n: 1 });
  const other = cached.prepare('select n from t order by n');
  expect(other).not.toBe(streaming);
  expect(other.all([])).toHaveLength(3);
  expect([...rows]).toEqual([{ n: 2 }, { n: 3 }]);
  // Once the iteration ended, the cached statement is free again.
  expect(cached.prepare('select n from t order by n')).toBe(streaming);
});

test('a cached statement sees schema changes made after it was compiled', () => {
  const cached = withStatementCache(database);
  expect(cached.prepare('select * from t where n = ?').all([1])).toEqual([{ n: 1 }]);
  database.exec('alter table t add column label text');
  expect(cached.prepare('select * from t where n = ?').all([1])).toEqual([{ n: 1, label: null }]);
});

test('the cache holds at most its capacity, dropping the oldest', () => {
  const cached = withStatementCache(database, 2);
  const a = cached.prepare('select 1');
  cached.prepare('select 2');
  cached.prepare('select 3');
  expect(cached.prepare('select 1')).not.toBe(a);
  cached.close();
  expect(database.open).toBe(false);
});
