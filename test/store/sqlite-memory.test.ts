import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';

/**
 * What a SQLite server process keeps in memory for its store (issue 25: peak RSS under load). The page
 * cache is bounded in open-sqlite.ts; better-sqlite3's build would give it 16 MiB.
 */
describe('SQLite store memory', () => {
  let dir: string;
  let opened: OpenedStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sparekey-memory-'));
    opened = await openStore({ kind: 'sqlite', path: join(dir, 'sparekey.db') });
  });
  afterEach(async () => {
    await opened.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the store connection caches 4 MiB of pages, not 16', async () => {
    const { rows } = await sql<{ cache_size: number }>`pragma cache_size`.execute(opened.db);
    expect(rows[0]?.cache_size).toBe(-4000);
  });
});
