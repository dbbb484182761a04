import { sql } from 'kysely';
import type { TestEnvironment } from './service-deps.js';

/**
 * The state a rejected request must leave unchanged: accounts, roles, factors, code sets and their use,
 * sessions, settings, API keys, emailed links. Left out on purpose: the audit log and the failed-attempt
 * counters (a refusal is recorded and charged by design), and the columns a request touches by being made
 * (a session's last-seen time, a key's last use).
 */
const TABLES = [
  'users',
  'user_roles',
  'roles',
  'mfa_factors',
  'recovery_code_sets',
  'recovery_codes',
  'sessions',
  'settings',
  'api_keys',
  'action_tokens',
] as const;
const TOUCHED_COLUMNS = new Set(['last_seen_at', 'expires_at', 'last_used_at']);

export async function stateSnapshot(env: TestEnvironment): Promise<string> {
  const parts: string[] = [];
  for (const table of TABLES) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(env.opened.db);
    const kept = rows.rows
      .map((row) =>
        JSON.stringify(
          Object.entries(row).filter(([column]) => !TOUCHED_COLUMNS.has(column)),
          (_k, v) => (typeof v === 'bigint' ? v.toString() : v),
        ),
      )
      .sort();
    parts.push(`${table}: ${kept.join('\n')}`);
  }
  return parts.join('\n\n');
}
