import { postgresAvailable } from './postgres.js';
import type { Engine } from './service-deps.js';

/** Every engine these tests run on: SQLite always, PostgreSQL when reachable (always under CI=true). */
export function testEngines(): Engine[] {
  return postgresAvailable() ? ['sqlite', 'postgres'] : ['sqlite'];
}
