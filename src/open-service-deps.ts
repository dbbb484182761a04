import { createServiceDeps } from './compose.js';
import type { Config } from './config/config.js';
import type { ServiceDeps } from './service/deps.js';
import { describeOpenFailure, openStore } from './store/open-store.js';

export type OpenedServiceDeps =
  | { ok: true; deps: ServiceDeps; close(): Promise<void> }
  | { ok: false; problem: string };

/**
 * Opens the configured database (migrating it) and wires the use cases over it, for an entry point that runs
 * one job and exits (the CLI), so the edge itself never holds the store. A database that cannot be opened is
 * one sentence, without a stack trace or the URL's credentials.
 */
export async function openServiceDeps(config: Readonly<Config>): Promise<OpenedServiceDeps> {
  let opened: Awaited<ReturnType<typeof openStore>>;
  try {
    opened = await openStore(config.database);
  } catch (error) {
    return { ok: false, problem: describeOpenFailure(config.database, error) };
  }
  const deps = createServiceDeps(config, opened.store);
  return {
    ok: true,
    deps,
    close: async () => {
      try {
        await deps.attemptCounters?.close?.();
      } finally {
        await opened.close();
      }
    },
  };
}
