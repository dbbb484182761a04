import type { Kysely } from 'kysely';
import type { Database } from './kysely/database.js';
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

/**
 * Opens the configured database (creating the SQLite file's directory) and migrates it to the latest schema.
 * Only the configured engine's driver is loaded: a SQLite deployment never loads `pg`, a PostgreSQL one
 * never loads better-sqlite3 (each costs several MiB of a process's memory).
 */
export async function openStore(config: DatabaseConfig): Promise<OpenedStore> {
  switch (config.kind) {
    case 'sqlite': {
      const { openSqliteStore } = await import('./sqlite/open-sqlite.js');
      return openSqliteStore(config.path);
    }
    case 'postgres': {
      const { openPostgresStore } = await import('./postgres/open-postgres.js');
      return openPostgresStore(config);
    }
  }
}

/**
 * One sentence for a person when the database cannot be opened (unreachable server, unknown database,
 * unwritable file, a failed migration), naming where without the URL's credentials.
 */
export function describeOpenFailure(config: DatabaseConfig, error: unknown): string {
  const where =
    config.kind === 'sqlite' ? `SQLite file ${config.path}` : `PostgreSQL at ${postgresPlace(config.url)}`;
  return `SpareKey cannot open its database (${where}): ${innermostReason(error)}.`;
}

function postgresPlace(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'the configured URL';
  }
}

function innermostReason(error: unknown): string {
  let current: unknown = error;
  const reasons: string[] = [];
  for (let depth = 0; depth < 5 && current; depth += 1) {
    if (current instanceof AggregateError && current.errors.length > 0) current = current.errors[0];
    const { message, code } = current as { message?: string; code?: string };
    reasons.push(message || code || String(current));
    current = (current as { cause?: unknown }).cause;
  }
  // The outermost says what failed ("database migration 0003-admin failed"), the innermost why.
  const [first, ...rest] = reasons;
  const last = rest.at(-1);
  return (last && last !== first ? `${first}: ${last}` : (first ?? 'unknown error')).replace(/\.$/, '');
}
