import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { type OpenedStore, openStore } from '../open-store.js';
import { compiledOnce } from './compiled-once.js';

let dir: string;
let opened: OpenedStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sparekey-compiled-'));
  opened = await openStore({ kind: 'sqlite', path: join(dir, 'sparekey.db') });
  await opened.store.putSetting('a', { n: 1 }, new Date(0));
  await opened.store.putSetting('b', { n: 2 }, new Date(0));
});
afterEach(async () => {
  await opened.close();
  rmSync(dir, { recursive: true, force: true });
});

const byKey = compiledOnce(
  'byKey',
  (db) => db.selectFrom('settings').select('value').where('key', '=', ''),
  1,
);

test('built once, run with each call’s own parameters, on the root handle and in a transaction', async () => {
  expect((await byKey(opened.db, ['a'])).rows).toEqual([{ value: '{"n":1}' }]);
  expect((await byKey(opened.db, ['b'])).rows).toEqual([{ value: '{"n":2}' }]);
  expect((await byKey(opened.db, ['none'])).rows).toEqual([]);
  await opened.db.transaction().execute(async (tx) => {
    expect((await byKey(tx, ['b'])).rows).toEqual([{ value: '{"n":2}' }]);
  });
});

test('a parameter count that does not match the compiled statement is refused, never bound', async () => {
  await expect(byKey(opened.db, [])).rejects.toThrow(/byKey: 1 parameter\(s\) expected, 0 given/);
  await expect(byKey(opened.db, ['a', 'b'])).rejects.toThrow(/2 given/);
  const drifted = compiledOnce(
    'drifted',
    (db) => db.selectFrom('settings').select('value').where('key', '=', '').where('updated_at', '>', 0),
    1,
  );
  await expect(drifted(opened.db, ['a'])).rejects.toThrow(/drifted: 1 parameter\(s\) expected, 2 compiled/);
});

test('compiled once for the root handle and every transaction opened from it', async () => {
  let builds = 0;
  const counted = compiledOnce(
    'counted',
    (db) => {
      builds += 1;
      return db.selectFrom('settings').select('value').where('key', '=', '');
    },
    1,
  );
  expect((await counted(opened.db, ['a'])).rows).toEqual([{ value: '{"n":1}' }]);
  for (const key of ['a', 'b']) {
    await opened.db.transaction().execute(async (tx) => {
      expect((await counted(tx, [key])).rows).toHaveLength(1);
    });
  }
  expect(builds).toBe(1);
});
