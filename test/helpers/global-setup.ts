import type { TestProject } from 'vitest/node';
import { buildCompiledSources } from './compiled-build.js';
import { ensureTestDatabase, postgresRequired } from './postgres.js';
import { createStoreTemplates, type StoreTemplates } from './store-templates.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAvailable: boolean;
    /** src/ compiled to JavaScript once for this run (see compiled-build.ts). */
    compiledSourcesDir: string;
    /** Migrated databases that test environments copy (see store-templates.ts). */
    storeTemplates: StoreTemplates;
  }
}

interface Prepared {
  available: boolean;
  compiledDir: string;
  templates: StoreTemplates;
  remove(): Promise<void>;
}

async function prepare(): Promise<Prepared> {
  const [templates, compiled] = await Promise.all([
    ensureTestDatabase().then(async (available) => ({
      available,
      ...(await createStoreTemplates(available)),
    })),
    buildCompiledSources(),
  ]);
  if (!templates.available && !postgresRequired) {
    console.warn('PostgreSQL is unreachable: PostgreSQL tests are skipped (they fail under CI=true).');
  }
  return {
    available: templates.available,
    compiledDir: compiled.dir,
    templates: templates.templates,
    remove: async () => {
      compiled.remove();
      await templates.remove();
    },
  };
}

/** Both test projects (vitest.config.ts) call the global setup; the work is done once and undone after the last. */
const once = globalThis as { sparekeyTestSetup?: { prepared: Promise<Prepared>; users: number } };

/**
 * Runs before all test files: makes sure the PostgreSQL test database exists (under CI=true an
 * unreachable PostgreSQL fails the run here), migrates the databases test environments copy, and compiles
 * src/ once for the processes tests spawn.
 */
export default async function globalSetup(project: TestProject): Promise<() => Promise<void>> {
  once.sparekeyTestSetup ??= { prepared: prepare(), users: 0 };
  const shared = once.sparekeyTestSetup;
  shared.users += 1;
  const prepared = await shared.prepared;
  project.provide('postgresAvailable', prepared.available);
  project.provide('compiledSourcesDir', prepared.compiledDir);
  project.provide('storeTemplates', prepared.templates);
  return async () => {
    shared.users -= 1;
    if (shared.users === 0) {
      once.sparekeyTestSetup = undefined;
      await prepared.remove();
    }
  };
}
