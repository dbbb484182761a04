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

/**
 * Runs once before all test files: makes sure the PostgreSQL test database exists (under CI=true an
 * unreachable PostgreSQL fails the run here), migrates the databases test environments copy, and compiles
 * src/ once for the processes tests spawn.
 */
export default async function globalSetup(project: TestProject): Promise<() => Promise<void>> {
  const [templates, compiled] = await Promise.all([
    ensureTestDatabase().then(async (available) => ({
      available,
      ...(await createStoreTemplates(available)),
    })),
    buildCompiledSources(),
  ]);
  const { available } = templates;
  project.provide('postgresAvailable', available);
  project.provide('compiledSourcesDir', compiled.dir);
  project.provide('storeTemplates', templates.templates);
  if (!available && !postgresRequired) {
    console.warn('PostgreSQL is unreachable: PostgreSQL tests are skipped (they fail under CI=true).');
  }
  return async () => {
    compiled.remove();
    await templates.remove();
  };
}
