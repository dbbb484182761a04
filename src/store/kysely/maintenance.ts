import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import type { PurgedRecords, PurgeRules } from '../store.js';
import type { StoreContext } from './context.js';
import type { Database } from './database.js';

/**
 * Rows deleted per statement: each batch is its own short write, so a large backlog never holds SQLite's
 * single write lock (or many PostgreSQL row locks) for long.
 */
const BATCH = 500;

/** Runs `deleteBatch` until it deletes fewer than a full batch; returns how many rows went in all. */
async function inBatches(deleteBatch: () => Promise<{ numDeletedRows: bigint }>): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = Number((await deleteBatch()).numDeletedRows);
    total += deleted;
    if (deleted < BATCH) return total;
  }
}

/*
 * Each batch names its rows by key through a sub-select with a LIMIT (neither engine has DELETE ... LIMIT
 * in common), and states the condition again on the DELETE itself: PostgreSQL re-checks that against a
 * row a concurrent transaction changed meanwhile (a session extended, a throttle counter charged), so a
 * row that came back to life between the sub-select and the delete is left alone.
 */

/** The tables whose rows die at `expires_at`, each with the column that names a row. */
const EXPIRING = {
  sessions: 'id_hash',
  action_tokens: 'id_hash',
  remembered_devices: 'id',
  email_otp_challenges: 'id',
} as const;

function purgeExpiredRows(db: Kysely<Database>, table: keyof typeof EXPIRING, now: number): Promise<number> {
  const [rows, key] = [sql.table(table), sql.ref(EXPIRING[table])];
  return inBatches(async () => {
    const result = await sql`delete from ${rows}
      where ${key} in (select ${key} from ${rows} where expires_at < ${now} limit ${BATCH})
        and expires_at < ${now}`.execute(db);
    return { numDeletedRows: result.numAffectedRows ?? 0n };
  });
}

/** A throttle counter that holds nothing back any more (see `PurgeRules`). */
function idleCounter(rules: PurgeRules) {
  const now = rules.at.getTime();
  return (eb: ExpressionBuilder<Database, 'throttle_counters'>) =>
    eb.and([
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

function purgeThrottleCounters(db: Kysely<Database>, rules: PurgeRules): Promise<number> {
  const idle = idleCounter(rules);
  return inBatches(() =>
    db
      .deleteFrom('throttle_counters')
      .where('key', 'in', db.selectFrom('throttle_counters').select('key').where(idle).limit(BATCH))
      .where(idle)
      .executeTakeFirst(),
  );
}

/**
 * Deletes what can no longer be used: expired sessions, links, remembered browsers and emailed codes;
 * throttle counters that say nothing any more; finished webhook deliveries past the log's retention.
 * Never audit events (their retention is the operator's: the audit log's *Delete old events*), codes, factors or
 * accounts.
 */
export async function purgeExpired(ctx: StoreContext, rules: PurgeRules): Promise<PurgedRecords> {
  const now = rules.at.getTime();
  const { db } = ctx;
  const sessions = await purgeExpiredRows(db, 'sessions', now);
  const actionTokens = await purgeExpiredRows(db, 'action_tokens', now);
  const rememberedDevices = await purgeExpiredRows(db, 'remembered_devices', now);
  const emailCodes = await purgeExpiredRows(db, 'email_otp_challenges', now);
  const throttleCounters = await purgeThrottleCounters(db, rules);
  const finishedBefore = now - rules.webhookLogRetentionMs;
  const webhookDeliveries = await inBatches(() =>
    db
      .deleteFrom('webhook_deliveries')
      .where(
        'id',
        'in',
        db
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('status', '!=', 'pending')
          .where('created_at', '<', finishedBefore)
          .limit(BATCH),
      )
      .where('status', '!=', 'pending')
      .where('created_at', '<', finishedBefore)
      .executeTakeFirst(),
  );
  return { sessions, actionTokens, rememberedDevices, emailCodes, throttleCounters, webhookDeliveries };
}
