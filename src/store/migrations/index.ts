import { type Kysely, type Migration, Migrator } from 'kysely';
import type { Database } from '../kysely/database.js';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-sessions.js';
import * as m0003 from './0003-admin.js';
import * as m0004 from './0004-api-keys.js';
import * as m0005 from './0005-throttle.js';
import * as m0006 from './0006-remembered-devices.js';
import * as m0007 from './0007-webhooks.js';
import * as m0008 from './0008-lock-reports.js';
import * as m0009 from './0009-oidc-provider.js';
import * as m0010 from './0010-webauthn.js';
import * as m0011 from './0011-host-users.js';
import * as m0012 from './0012-audit-sealing.js';
import * as m0013 from './0013-session-sign-in-method.js';
import * as m0014 from './0014-oidc-sign-in-counts.js';
import * as m0015 from './0015-set-count-shards.js';
import * as m0016 from './0016-oidc-sign-in-count-shards.js';

/**
 * Every migration, listed statically: no filesystem scanning, so bundles and compiled output carry them
 * and the order is the order written here. Append new entries; never rename or edit shipped ones.
 */
export const migrations: Readonly<Record<string, Migration>> = {
  '0001-initial': m0001,
  '0002-sessions': m0002,
  '0003-admin': m0003,
  '0004-api-keys': m0004,
  '0005-throttle': m0005,
  '0006-remembered-devices': m0006,
  '0007-webhooks': m0007,
  '0008-lock-reports': m0008,
  '0009-oidc-provider': m0009,
  '0010-webauthn': m0010,
  '0011-host-users': m0011,
  '0012-audit-sealing': m0012,
  '0013-session-sign-in-method': m0013,
  '0014-oidc-sign-in-counts': m0014,
  '0015-set-count-shards': m0015,
  '0016-oidc-sign-in-count-shards': m0016,
};

export interface MigrateOptions {
  /** Where Kysely keeps its bookkeeping tables (PostgreSQL: the store's schema). */
  migrationTableSchema?: string;
  /** True when the caller already runs the migrator inside its own exclusive transaction. */
  disableTransactions?: boolean;
}

/** Applies every pending migration; throws when one fails (the store cannot run on a partial schema). */
export async function migrateToLatest(db: Kysely<Database>, options: MigrateOptions = {}): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...migrations }) },
    ...options,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName;
    const message =
      failed === undefined ? 'database migration failed' : `database migration ${failed} failed`;
    throw new Error(message, { cause: error });
  }
}
