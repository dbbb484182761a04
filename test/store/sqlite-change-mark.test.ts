import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { givenUser } from '../../src/store/contract/fixtures.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';

/**
 * `Store.getChangeMark` (docs/decisions/0012-forward-auth-verdict-cache.md): what forward auth's verdict
 * cache rests on. Two equal marks must mean that nothing was committed in between, by this store's own
 * connection, another connection of this process, or another OS process.
 */
describe('SQLite change mark', () => {
  let dir: string;
  let path: string;
  let opened: OpenedStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sparekey-mark-'));
    path = join(dir, 'sparekey.db');
    opened = await openStore({ kind: 'sqlite', path });
  });
  afterEach(async () => {
    await opened.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('unchanged by reads; moved by a write committed through the store itself', async () => {
    const { store } = opened;
    const user = await givenUser(store);
    const before = store.getChangeMark();
    expect(before).toEqual(expect.any(Number));
    await store.findUserById(user.id);
    await store.getSetting('access_rules');
    expect(store.getChangeMark()).toBe(before);
    await store.setUserRoles(user.id, ['ops']);
    const afterRoles = store.getChangeMark();
    expect(afterRoles).not.toBe(before);
    await store.transaction(async (tx) => tx.putSetting('access_rules', { rules: [] }, new Date()));
    expect(store.getChangeMark()).not.toBe(afterRoles);
  });

  test('moved by a write committed through another store on the same file (another instance)', async () => {
    const other = await openStore({ kind: 'sqlite', path });
    try {
      const user = await givenUser(opened.store);
      const before = opened.store.getChangeMark();
      await other.store.deleteUser(user.id);
      expect(opened.store.getChangeMark()).not.toBe(before);
    } finally {
      await other.close();
    }
  });

  test('moved by a write committed by another OS process', async () => {
    const before = opened.store.getChangeMark();
    const script = [
      "const Database = require('better-sqlite3');",
      'const db = new Database(process.argv[1], { timeout: 5000 });',
      "db.prepare('insert into settings (key, value, updated_at) values (?, ?, ?)').run('other-process', '1', 0);",
      'db.close();',
    ].join('\n');
    const run = spawnSync(process.execPath, ['-e', script, path], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(opened.store.getChangeMark()).not.toBe(before);
  });

  test('none inside a transaction, and none for an in-memory database (nothing may be cached there)', async () => {
    expect(await opened.store.transaction(async (tx) => tx.getChangeMark())).toBeUndefined();
    const memory = await openStore({ kind: 'sqlite', path: ':memory:' });
    try {
      expect(memory.store.getChangeMark()).toBeUndefined();
    } finally {
      await memory.close();
    }
  });
});
