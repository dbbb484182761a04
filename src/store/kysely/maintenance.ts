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

function purgeExpiring(db: Kysely<Database>, now: number) {
  return {
    sessions: () =>
      inBatches(() =>
        db
          .deleteFrom('sessions')
          .where(
            'id_hash',
            'in',
            db.selectFrom('sessions').select('id_hash').where('expires_at', '<', now).limit(BATCH),
          )
          .where('expires_at', '<', now)
          .executeTakeFirst(),
      ),
    actionTokens: () =>
      inBatches(() =>
        db
          .deleteFrom('action_tokens')
          .where(
            'id_hash',
            'in',
            db.selectFrom('action_tokens').select('id_hash').where('expires_at', '<', now).limit(BATCH),
          )
          .where('expires_at', '<', now)
          .executeTakeFirst(),
      ),
    rememberedDevices: () =>
      inBatches(() =>
        db
          .deleteFrom('remembered_devices')
          .where(
            'id',
            'in',
            db.selectFrom('remembered_devices').select('id').where('expires_at', '<', now).limit(BATCH),
          )
          .where('expires_at', '<', now)
          .executeTakeFirst(),
      ),
    emailCodes: () =>
      inBatches(() =>
        db
          .deleteFrom('email_otp_challenges')
          .where(
            'id',
            'in',
            db.selectFrom('email_otp_challenges').select('id').where('expires_at', '<', now).limit(BATCH),
          )
          .where('expires_at', '<', now)
          .executeTakeFirst(),
      ),
  };
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
  const expiring = purgeExpiring(db, now);
  const sessions = await expiring.sessions();
  const actionTokens = await expiring.actionTokens();
  const rememberedDevices = await expiring.rememberedDevices();
  const emailCodes = await expiring.emailCodes();
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
