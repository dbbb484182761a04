import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The environment of a benchmarked server process: its own data directory, the minimum KDF, and on
 * PostgreSQL a database of its own (`sparekey_bench_<label>_<pid>`), dropped again by `cleanup`.
 */
export async function benchServerDatabase(
  engine: string,
  label: string,
  extra: Record<string, string> = {},
): Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), `sparekey-bench-${label}-`));
  const env: Record<string, string> = {
    SPAREKEY_DATA_DIR: dataDir,
    SPAREKEY_SECRET: Buffer.alloc(32, 7).toString('base64'),
    SPAREKEY_KDF_PROFILE: 'minimum',
    SPAREKEY_LOG_LEVEL: 'warn',
    SPAREKEY_EMAIL_OTP: 'off',
    ...extra,
  };
  if (engine === 'sqlite')
    return { env, cleanup: async () => rmSync(dataDir, { recursive: true, force: true }) };
  const database = `sparekey_bench_${label}_${process.pid}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database "${database}"`);
  await admin.end();
  env.DATABASE_URL = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${database}`);
  return {
    env,
    cleanup: async () => {
      rmSync(dataDir, { recursive: true, force: true });
      const client = new pg.Client({ connectionString: PG_ADMIN_URL });
      await client.connect();
      await client.query(`drop database if exists "${database}" with (force)`);
      await client.end();
    },
  };
}
