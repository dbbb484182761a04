import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServiceDeps } from '../../src/compose.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { ServiceDeps } from '../../src/service/deps.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { testDatabaseUrl, withTestDatabaseClient } from '../helpers/postgres.js';
import type { Engine } from '../helpers/service-deps.js';

/**
 * The loosest throttle the configuration allows (the lock at most at 100, NIST SP 800-63B 5.2.2; the free
 * failures below it), so concurrent uses of codes are evaluated instead of mostly answered 429. Every
 * request comes from 127.0.0.1, so the address's counter must not be what refuses them either.
 */
export const LOOSEST_FREE_FAILURES = 99;
export const LOOSEST_THROTTLE_ENV: Readonly<Record<string, string>> = {
  SPAREKEY_THROTTLE_FREE_FAILURES: String(LOOSEST_FREE_FAILURES),
  SPAREKEY_THROTTLE_LOCK_AFTER: String(LOOSEST_FREE_FAILURES + 1),
  SPAREKEY_THROTTLE_ADDRESS_FREE_FAILURES: '100000',
};

/** The code row in `slot` of set `setId` as the table holds it (undefined: the set is gone). */
export async function storedCode(
  opened: OpenedStore,
  setId: string,
  slot: number,
): Promise<{ used_at: number | null } | undefined> {
  return opened.db
    .selectFrom('recovery_codes')
    .select('used_at')
    .where('set_id', '=', setId)
    .where('slot', '=', slot)
    .executeTakeFirst();
}

/**
 * A database of its own for a group of real server processes: a fresh SQLite directory, or a fresh
 * PostgreSQL database whose default schema the servers use, as a deployment would. `env` holds what the
 * servers need to find it (plus `extra`); `drop` removes it once the servers are gone.
 */
export async function freshDatabase(
  engine: Engine,
  extra: Record<string, string> = {},
): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
  const env: Record<string, string> = {
    SPAREKEY_SECRET: randomBytes(32).toString('base64'),
    SPAREKEY_KDF_PROFILE: 'minimum',
    SPAREKEY_LOG_LEVEL: 'warn',
    ...extra,
  };
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sparekey-scale-'));
    env.SPAREKEY_DATA_DIR = dir;
    return { env, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `sparekey_scale_${randomBytes(6).toString('hex')}`;
  await withTestDatabaseClient((admin) => admin.query(`create database ${name}`));
  const url = new URL(testDatabaseUrl);
  url.pathname = `/${name}`;
  env.DATABASE_URL = url.toString();
  const drop = async () => {
    await withTestDatabaseClient((client) => client.query(`drop database if exists ${name} with (force)`));
  };
  return { env, drop };
}

/**
 * The test's own way into the servers' database, configured from the same `env`: to set up users and
 * keys, and to read the tables and the audit log afterwards without going through the servers.
 */
export async function openLikeTheServers(
  env: Record<string, string>,
): Promise<{ opened: OpenedStore; deps: ServiceDeps; close: () => Promise<void> }> {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const opened = await openStore(loaded.config.database);
  const deps = createServiceDeps(loaded.config, opened.store);
  return {
    opened,
    deps,
    close: async () => {
      await deps.attemptCounters?.close?.();
      await opened.close();
    },
  };
}
