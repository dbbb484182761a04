import type { TestProject } from 'vitest/node';
import { buildCompiledSources } from './compiled-build.js';
import { ensureTestDatabase, postgresRequired } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAvailable: boolean;
    /** src/ compiled to JavaScript once for this run (see compiled-build.ts). */
    compiledSourcesDir: string;
  }
}

/**
 * Runs once before all test files: makes sure the PostgreSQL test database exists (under CI=true an
 * unreachable PostgreSQL fails the run here), and compiles src/ once for the processes tests spawn.
 */
export default async function globalSetup(project: TestProject): Promise<() => void> {
  const [available, compiled] = await Promise.all([ensureTestDatabase(), buildCompiledSources()]);
  project.provide('postgresAvailable', available);
  project.provide('compiledSourcesDir', compiled.dir);
  if (!available && !postgresRequired) {
    console.warn('PostgreSQL is unreachable: PostgreSQL tests are skipped (they fail under CI=true).');
  }
  return compiled.remove;
}
