import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import {
  type AttemptKind,
  type ChargeVerdict,
  chargeAttempt as decideCharge,
  type SettleMode,
  settleSuccess,
  type ThrottlePolicy,
  type ThrottleState,
} from '../../core/throttle.js';
import type { NewActionToken, WriteOutcome } from '../store.js';
import { compiledOnce } from './compiled-once.js';
import { changedExactlyOne, lockUser, type StoreContext } from './context.js';
import type { Database } from './database.js';

/**
 * Reads the key's counter with its row lock held to the end of the transaction, in one statement: the
 * row is created when absent, or else "updated" to itself, which on PostgreSQL takes the row lock (waiting
 * for a concurrent charge to commit, then returning what it committed). Locking a row that does not exist
 * locks nothing, and two first attempts would both pass (the better-auth `beginAttempt` defect). On SQLite
 * BEGIN IMMEDIATE already serializes the writers.
 */
async function lockedCounter(db: Kysely<Database>, key: string): Promise<ThrottleState> {
  const row = (await counterLocked(db, [key, 0, null, null, 0])).rows[0];
  if (row === undefined) throw new Error(`throttle counter ${key}: the upsert returned no row`);
  return toState(row);
}

/*
 * Every attempt's statements, compiled once (compiled-once.ts). Parameters in SQL order:
 * counterLocked [key, failures, blocked_until, locked_at, updated_at] (the values of a new row);
 * counterWritten [failures, blocked_until, locked_at, updated_at, key].
 */
const counterLocked = compiledOnce(
  'lockedCounter',
  (db) =>
    db
      .insertInto('throttle_counters')
      .values({ key: '', failures: 0, blocked_until: null, locked_at: null, updated_at: 0 })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => ({ failures: eb.ref('throttle_counters.failures') })),
      )
      .returningAll(),
  5,
);
const counterWritten = compiledOnce(
  'writeCounter',
  (db) =>
    db
      .updateTable('throttle_counters')
      .set({ failures: 0, blocked_until: null, locked_at: null, updated_at: 0 })
      .where('key', '=', ''),
  5,
);

/**
 * An attempt's usual charge in one statement: a key with no row gets the fresh state, a key that is
 * neither locked nor blocked gets one more failure (from zero once forgotten), but only while that stays
 * below both the back-off and the lock, so no block or lock is ever decided here. ON CONFLICT DO UPDATE
 * sees the row's latest committed version and locks it even when the WHERE leaves it alone (PostgreSQL;
 * SQLite's BEGIN IMMEDIATE already serializes), so no row returned means "decide it the long way" and the
 * long way finds the row as it is. Parameters: [key, failures, null, null, updated_at] of a fresh row,
 * then [forgetAtOrBefore, null, now, now, forgetAtOrBefore, limit].
 */
const counterCharged = compiledOnce(
  'chargeCounter',
  (db) => {
    // decideCharge's failure count after this attempt: one more, or one after a forgotten counter.
    const failuresAfter = () =>
      sql<number>`(case when throttle_counters.updated_at <= ${0} then 0 else throttle_counters.failures end) + 1`;
    return db
      .insertInto('throttle_counters')
      .values({ key: '', failures: 0, blocked_until: null, locked_at: null, updated_at: 0 })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet({ failures: failuresAfter(), blocked_until: null, updated_at: 0 })
          .where('throttle_counters.locked_at', 'is', null)
          .where((eb) =>
            eb.or([
              eb('throttle_counters.blocked_until', 'is', null),
              eb('throttle_counters.blocked_until', '<=', 0),
            ]),
          )
          .where(failuresAfter(), '<', 0),
      )
      .returning('failures');
  },
  11,
);

function toState(row: Database['throttle_counters']): ThrottleState {
  return {
    failures: Number(row.failures),
    blockedUntil: row.blocked_until === null ? null : Number(row.blocked_until),
    lockedAt: row.locked_at === null ? null : Number(row.locked_at),
    updatedAt: Number(row.updated_at),
  };
}

async function writeCounter(db: Kysely<Database>, key: string, state: ThrottleState): Promise<void> {
  await counterWritten(db, [state.failures, state.blockedUntil, state.lockedAt, state.updatedAt, key]);
}

export function chargeAttempt(
  ctx: StoreContext,
  key: string,
  policy: ThrottlePolicy,
  kind: AttemptKind,
  at: Date,
): Promise<ChargeVerdict> {
  return ctx.atomic(async (db) => {
    const now = at.getTime();
    const plain = await chargePlainly(db, key, policy, kind, now);
    if (plain) return plain;
    const { verdict, next } = decideCharge(await lockedCounter(db, key), policy, kind, now);
    if (next) await writeCounter(db, key, next);
    return verdict;
  });
}

/**
 * The charge in one statement when it is a plain one (counterCharged): the verdict decideCharge gives for
 * it, or undefined when the counter needs deciding under its lock (a block or lock running or reached).
 */
async function chargePlainly(
  db: Kysely<Database>,
  key: string,
  policy: ThrottlePolicy,
  kind: AttemptKind,
  now: number,
): Promise<ChargeVerdict | undefined> {
  const fresh = decideCharge(undefined, policy, kind, now);
  // A policy whose very first failure blocks or locks has no plain charge.
  if (!fresh.verdict.charged || fresh.verdict.lockedNow || fresh.next?.blockedUntil !== null)
    return undefined;
  // An untouched counter starts over at or before this moment (never, without forgetAfterMs: no row has
  // a negative updated_at); a charge stays plain below this many failures.
  const forgetAtOrBefore = policy.forgetAfterMs === null ? -1 : now - policy.forgetAfterMs;
  // (The column is a 32-bit integer, and so is the comparison.)
  const limit = Math.min(policy.freeFailures, policy.lockAfter ?? 2 ** 31 - 1);
  const { failures, blockedUntil, lockedAt, updatedAt } = fresh.next;
  const row = (
    await counterCharged(db, [
      key,
      failures,
      blockedUntil,
      lockedAt,
      updatedAt,
      forgetAtOrBefore,
      null,
      now,
      now,
      forgetAtOrBefore,
      limit,
    ])
  ).rows[0];
  return row && { charged: true, failures: Number(row.failures), lockedNow: false, lockedAt: null };
}

export function settleAttempt(
  ctx: StoreContext,
  key: string,
  policy: ThrottlePolicy,
  mode: SettleMode,
  at: Date,
): Promise<void> {
  // A reset does not depend on what was counted: one UPDATE (a key with no row has nothing to reset).
  if (mode === 'reset')
    return writeCounter(ctx.db, key, settleSuccess(undefined, policy, mode, at.getTime()));
  return ctx.atomic(async (db) => {
    const next = settleSuccess(await lockedCounter(db, key), policy, mode, at.getTime());
    await writeCounter(db, key, next);
  });
}

export async function clearAttempts(ctx: StoreContext, key: string): Promise<void> {
  await ctx.db.deleteFrom('throttle_counters').where('key', '=', key).execute();
}

export async function findAttempts(ctx: StoreContext, key: string): Promise<ThrottleState | undefined> {
  const row = await ctx.db
    .selectFrom('throttle_counters')
    .selectAll()
    .where('key', '=', key)
    .executeTakeFirst();
  return row && toState(row);
}

/*
 * DO NOTHING on the primary key rather than catching the violation (a failed statement would abort a
 * PostgreSQL transaction). Of concurrent claimers on PostgreSQL, the later inserts wait for the first's
 * transaction and then find its row (or insert, if it rolled back); SQLite's single writer serializes them.
 */
export async function claimLockReport(
  ctx: StoreContext,
  key: string,
  lockedAt: number,
  at: Date,
): Promise<{ claimed: boolean }> {
  const inserted = await ctx.db
    .insertInto('throttle_lock_reports')
    .values({ key, locked_at: lockedAt, reported_at: at.getTime() })
    .onConflict((conflict) => conflict.columns(['key', 'locked_at']).doNothing())
    .executeTakeFirst();
  return { claimed: inserted.numInsertedOrUpdatedRows === 1n };
}

export async function isLockReported(ctx: StoreContext, key: string, lockedAt: number): Promise<boolean> {
  const row = await ctx.db
    .selectFrom('throttle_lock_reports')
    .select('key')
    .where('key', '=', key)
    .where('locked_at', '=', lockedAt)
    .executeTakeFirst();
  return row !== undefined;
}

export async function createActionToken(ctx: StoreContext, token: NewActionToken): Promise<void> {
  await ctx.db
    .insertInto('action_tokens')
    .values({
      id_hash: token.idHash,
      purpose: token.purpose,
      user_id: token.userId,
      created_at: token.createdAt.getTime(),
      expires_at: token.expiresAt.getTime(),
      used_at: null,
    })
    .execute();
}

export async function createActionTokenUnlessLive(
  ctx: StoreContext,
  token: NewActionToken,
): Promise<WriteOutcome<'created'>> {
  return ctx.atomic(async (db) => {
    // The user's row lock (PostgreSQL; SQLite's transaction holds the write lock already): a concurrent
    // caller waits here, then sees the token this one committed. Without it both would find none live.
    if (!(await lockUser(ctx, db, token.userId))) return { created: false };
    const live = await db
      .selectFrom('action_tokens')
      .select('id_hash')
      .where('user_id', '=', token.userId)
      .where(liveActionToken(token.purpose, token.createdAt))
      .executeTakeFirst();
    if (live) return { created: false };
    await createActionToken({ ...ctx, db }, token);
    return { created: true };
  });
}

/** A token is live for one purpose while it is unused and unexpired: the one rule every lookup below shares. */
function liveActionToken(purpose: string, at: Date) {
  return (eb: ExpressionBuilder<Database, 'action_tokens'>) =>
    eb.and([eb('purpose', '=', purpose), eb('used_at', 'is', null), eb('expires_at', '>', at.getTime())]);
}

export async function consumeActionToken(
  ctx: StoreContext,
  idHash: string,
  purpose: string,
  at: Date,
): Promise<WriteOutcome<'consumed', never, { userId: string }>> {
  return ctx.atomic(async (db) => {
    const spent = await db
      .updateTable('action_tokens')
      .set({ used_at: at.getTime() })
      .where('id_hash', '=', idHash)
      .where(liveActionToken(purpose, at))
      .executeTakeFirst();
    if (!changedExactlyOne(spent)) return { consumed: false };
    const row = await db
      .selectFrom('action_tokens')
      .select('user_id')
      .where('id_hash', '=', idHash)
      .executeTakeFirstOrThrow();
    return { consumed: true, userId: row.user_id };
  });
}

export async function hasLiveActionToken(
  ctx: StoreContext,
  userId: string,
  purpose: string,
  at: Date,
): Promise<boolean> {
  const row = await ctx.db
    .selectFrom('action_tokens')
    .select('id_hash')
    .where('user_id', '=', userId)
    .where(liveActionToken(purpose, at))
    .executeTakeFirst();
  return row !== undefined;
}

export async function findActionToken(
  ctx: StoreContext,
  idHash: string,
  purpose: string,
  at: Date,
): Promise<{ userId: string } | undefined> {
  const row = await ctx.db
    .selectFrom('action_tokens')
    .select('user_id')
    .where('id_hash', '=', idHash)
    .where(liveActionToken(purpose, at))
    .executeTakeFirst();
  return row && { userId: row.user_id };
}

export async function revokeActionTokens(
  ctx: StoreContext,
  userId: string,
  purpose: string,
  at: Date,
): Promise<number> {
  const result = await ctx.db
    .updateTable('action_tokens')
    .set({ used_at: at.getTime() })
    .where('user_id', '=', userId)
    .where(liveActionToken(purpose, at))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
