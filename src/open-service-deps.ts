import { compositionOptionsFromConfig, openServices } from './compose.js';
import type { Config } from './config/config.js';
import type { UseCases } from './service/use-cases.js';
import { describeOpenFailure } from './store/open-store.js';

export type OpenedServiceDeps =
  | { ok: true; useCases: UseCases; close(): Promise<void> }
  | { ok: false; problem: string };

/**
 * openServices for the server's configuration, for an entry point that runs one job and exits (the CLI),
 * so the edge itself never holds the store. A database that cannot be opened is one sentence, without a
 * stack trace or the URL's credentials.
 */
export async function openServiceDeps(config: Readonly<Config>): Promise<OpenedServiceDeps> {
  try {
    const opened = await openServices(compositionOptionsFromConfig(config), config.database);
    return { ok: true, ...opened };
  } catch (error) {
    return { ok: false, problem: describeOpenFailure(config.database, error) };
  }
}
