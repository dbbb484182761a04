import { type Expression, expressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import type { PurgedRecords, PurgeRules } from '../store.js';
import type { StoreContext } from './context.js';
import type { Database } from './database.js';

/**
 * Rows deleted per statement: each batch is its own short write, so a large backlog never holds SQLite's
 * single write lock (or many PostgreSQL row locks) for long.
 */
const BATCH = 500;

/**
 * Deletes the rows of `table` for which `dead` holds, a batch at a time; returns how many went. Each batch
 * names its rows by `key` through a sub-select with a LIMIT (the engines have no DELETE ... LIMIT in
 * common), and states `dead` again on the DELETE itself: PostgreSQL re-checks that against a row a
 * concurrent transaction changed meanwhile (a session extended, a throttle counter charged), so a row that
 * came back to life between the sub-select and the delete is left alone.
 */
async function deleteInBatches(
  db: Kysely<Database>,
  table: keyof Database,
  key: string,
  dead: Expression<SqlBool>,
): Promise<number> {
  const [rows, name] = [sql.table(table), sql.ref(key)];
  let total = 0;
  for (;;) {
    const result = await sql`delete from ${rows}
      where ${name} in (select ${name} from ${rows} where ${dead} limit ${BATCH}) and ${dead}`.execute(db);
    const deleted = Number(result.numAffectedRows ?? 0n);
    total += deleted;
    if (deleted < BATCH) return total;
  }
}

/** Rows of the tables that die at `expires_at` (sessions, links, remembered browsers, emailed codes,
 * WebAuthn challenges). */
const expiredAt = (now: number) => sql<SqlBool>`expires_at < ${now}`;

/** A throttle counter that holds nothing back any more (see `PurgeRules`). */
function idleCounter(rules: PurgeRules): Expression<SqlBool> {
  const now = rules.at.getTime();
  const eb = expressionBuilder<Database, 'throttle_counters'>();
  return eb.and([
    // A lock waits for its unlock, and a running block for its end, whatever the key.
    eb('locked_at', 'is', null),
    eb.or([eb('blocked_until', 'is', null), eb('blocked_until', '<=', now)]),
    eb.or([
      // Nothing counted: the row means what a missing row means.
      eb('failures', '=', 0),
      // Counted, under a policy that forgets a counter this long after its last change.
      ...rules.throttleForgetting.map(({ keyPrefix, idleMs }) =>
        eb.and([
          eb(sql<string>`substr(${sql.ref('key')}, 1, ${keyPrefix.length})`, '=', keyPrefix),
          eb('updated_at', '<=', now - idleMs),
        ]),
      ),
    ]),
  ]);
}

/** A lock report whose lock is over (see `PurgeRules.lockReports`). */
function endedLockReport(rules: PurgeRules): Expression<SqlBool> {
  const { countersInDatabase, retentionMs } = rules.lockReports;
  const now = rules.at.getTime();
  if (!countersInDatabase) return sql<SqlBool>`reported_at < ${now - retentionMs}`;
  // Correlated on the report's own row, in the sub-select and again on the DELETE (deleteInBatches).
  return sql<SqlBool>`not exists (select 1 from throttle_counters
    where throttle_counters.key = throttle_lock_reports.key
      and throttle_counters.locked_at = throttle_lock_reports.locked_at)`;
}

/** A webhook delivery that finished (delivered or given up) before the log's retention. */
function finishedDelivery(rules: PurgeRules): Expression<SqlBool> {
  const eb = expressionBuilder<Database, 'webhook_deliveries'>();
  return eb.and([
    eb('status', '!=', 'pending'),
    eb('created_at', '<', rules.at.getTime() - rules.webhookLogRetentionMs),
  ]);
}

/**
 * Deletes what can no longer be used: expired sessions, links, remembered browsers and emailed codes;
 * throttle counters that say nothing any more, reports of locks that are over; finished webhook deliveries past the log's retention;
 * the OpenID Connect provider's expired codes, sessions, grants and tokens, and signing keys past their expiry.
 * Never audit events (their retention is the operator's: the audit log's *Delete old events*), codes,
 * factors or accounts.
 */
export async function purgeExpired(ctx: StoreContext, rules: PurgeRules): Promise<PurgedRecords> {
  const { db } = ctx;
  const expired = expiredAt(rules.at.getTime());
  return {
    sessions: await deleteInBatches(db, 'sessions', 'id_hash', expired),
    actionTokens: await deleteInBatches(db, 'action_tokens', 'id_hash', expired),
    rememberedDevices: await deleteInBatches(db, 'remembered_devices', 'id', expired),
    emailCodes: await deleteInBatches(db, 'email_otp_challenges', 'id', expired),
    webauthnChallenges: await deleteInBatches(db, 'webauthn_challenges', 'challenge', expired),
    throttleCounters: await deleteInBatches(db, 'throttle_counters', 'key', idleCounter(rules)),
    lockReports: await deleteInBatches(db, 'throttle_lock_reports', 'key', endedLockReport(rules)),
    webhookDeliveries: await deleteInBatches(db, 'webhook_deliveries', 'id', finishedDelivery(rules)),
    // Composite key (model, id): the sub-select names rows by id, and `expired` is stated again per row.
    oidcModels: await deleteInBatches(db, 'oidc_models', 'id', expired),
    oidcSigningKeys: await deleteInBatches(db, 'oidc_signing_keys', 'kid', expired),
  };
}
