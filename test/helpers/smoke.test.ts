import { expect, test } from 'vitest';
import { postgresAvailable, postgresRequired } from './postgres.js';

test('PostgreSQL is reachable whenever it is required', () => {
  if (postgresRequired) expect(postgresAvailable()).toBe(true);
});
