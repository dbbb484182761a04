import { sql } from 'kysely';
import type { TestEnvironment } from './service-deps.js';

/**
 * The state a rejected request must leave unchanged: every table the migrations create, each with the
 * columns a request may change without changing anything a person relies on. The tables left out
 * entirely are in UNCOMPARED_TABLES; test/helpers/state-snapshot.test.ts fails when a migration adds a
 * table that is in neither list.
 */
const COMPARED_TABLES: Record<string, readonly string[]> = {
  users: [],
  user_roles: [],
  roles: [],
  mfa_factors: [],
  recovery_code_sets: [],
  recovery_codes: [],
  recovery_code_set_counts: [],
  // A wrong emailed code is charged to its challenge (`attempts`), by design, like the throttle counters.
  email_otp_challenges: ['attempts'],
  // Every request by a session is a use of it: it slides the session's last-seen time and expiry.
  sessions: ['last_seen_at', 'expires_at'],
  settings: [],
  // An API key's last use is recorded on every authenticated call, refused or not.
  api_keys: ['last_used_at'],
  action_tokens: [],
  // A remembered browser's last use is recorded when the second step recognizes it.
  remembered_devices: ['last_used_at'],
  webhook_endpoints: [],
  webhook_deliveries: [],
  // A key's signature counter and last use move only when a ceremony succeeds.
  webauthn_credentials: [],
  // A ceremony's challenge is single use: a refused answer to it spends it, by design.
  webauthn_challenges: ['used_at'],
  oidc_clients: [],
  oidc_models: [],
  oidc_signing_keys: [],
  // Sign-ins per application: only an issued authorization code adds one.
  oidc_sign_in_counts: [],
};

/**
 * Left out on purpose: a refusal is audited (the log, its chain head, its hourly counts and the sealer's lease) and charged to
 * the failed-attempt counters by design, and the refusal that locks an account records that its lock was
 * reported; the migrator's own bookkeeping never changes after start-up.
 */
export const UNCOMPARED_TABLES = [
  'audit_events',
  'audit_chain_head',
  'audit_counts',
  'audit_sealer',
  'throttle_counters',
  'throttle_lock_reports',
  'kysely_migration',
  'kysely_migration_lock',
] as const;

export const COMPARED_TABLE_NAMES = Object.keys(COMPARED_TABLES);

export async function stateSnapshot(env: TestEnvironment): Promise<string> {
  const parts: string[] = [];
  for (const [table, touched] of Object.entries(COMPARED_TABLES)) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(env.opened.db);
    const kept = rows.rows
      .map((row) =>
        JSON.stringify(
          Object.entries(row).filter(([column]) => !touched.includes(column)),
          (_k, v) => (typeof v === 'bigint' ? v.toString() : v),
        ),
      )
      .sort();
    parts.push(`${table}: ${kept.join('\n')}`);
  }
  return parts.join('\n\n');
}
