import type { TestProject } from 'vitest/node';
import { ensureTestDatabase, postgresRequired } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAvailable: boolean;
  }
}

/** Runs once before all test files: makes sure the PostgreSQL test database exists. */
export default async function globalSetup(project: TestProject): Promise<void> {
  const available = await ensureTestDatabase();
  project.provide('postgresAvailable', available);
  if (!available && !postgresRequired) {
    console.warn('PostgreSQL is unreachable: PostgreSQL tests are skipped (they fail under CI=true).');
  }
}
