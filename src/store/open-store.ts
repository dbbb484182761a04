import type { Kysely } from 'kysely';
import type { Database } from './kysely/database.js';
import { openPostgresStore } from './postgres/open-postgres.js';
import { openSqliteStore } from './sqlite/open-sqlite.js';
import type { Store } from './store.js';

export type DatabaseConfig =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; schema?: string; poolSize?: number };

export interface OpenedStore {
  store: Store;
  /** The underlying handle, for operations tooling and tests; application code goes through `store`. */
  db: Kysely<Database>;
  close(): Promise<void>;
}

/** Opens the configured database (creating the SQLite file's directory) and migrates it to the latest schema. */
export async function openStore(config: DatabaseConfig): Promise<OpenedStore> {
  switch (config.kind) {
    case 'sqlite':
      return openSqliteStore(config.path);
    case 'postgres':
      return openPostgresStore(config);
  }
}
