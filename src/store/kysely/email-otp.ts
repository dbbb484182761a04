import type { EmailOtpChallengeRecord, NewEmailOtpChallenge } from '../store.js';
import { changedExactlyOne, lockUser, type StoreContext, toDate, toDateOrNull } from './context.js';
import type { EmailOtpChallengesTable } from './database.js';

export async function replaceEmailOtpChallenge(
  ctx: StoreContext,
  challenge: NewEmailOtpChallenge,
): Promise<void> {
  await ctx.atomic(async (db) => {
    // Two concurrent resends for one attempt would, under READ COMMITTED, each delete what they can see
    // (not the other's uncommitted row) and both insert, leaving two live codes. The user's row lock makes
    // them run one after the other, and the waiter's DELETE (a fresh snapshot) then kills the winner's row.
    await lockUser(ctx, db, challenge.userId);
    await db.deleteFrom('email_otp_challenges').where('attempt_id', '=', challenge.attemptId).execute();
    await db
      .insertInto('email_otp_challenges')
      .values({
        id: challenge.id,
        user_id: challenge.userId,
        attempt_id: challenge.attemptId,
        digest: challenge.digest,
        created_at: challenge.createdAt.getTime(),
        expires_at: challenge.expiresAt.getTime(),
      })
      .execute();
  });
}

export async function findEmailOtpChallenge(
  ctx: StoreContext,
  attemptId: string,
): Promise<EmailOtpChallengeRecord | undefined> {
  // At most one row per attempt (see above); the ordering only makes the choice explicit.
  const row = await ctx.db
    .selectFrom('email_otp_challenges')
    .selectAll()
    .where('attempt_id', '=', attemptId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return row && toChallengeRecord(row);
}

export async function chargeEmailOtpAttempt(
  ctx: StoreContext,
  challengeId: string,
  maxAttempts: number,
): Promise<{ charged: boolean }> {
  // One conditional increment, never read-then-write (the umami and better-auth attempt-cap defects):
  // under PostgreSQL READ COMMITTED each concurrent UPDATE waits on the row lock and re-evaluates
  // `attempts < max` against the committed count, so at most `maxAttempts` callers are ever charged.
  const result = await ctx.db
    .updateTable('email_otp_challenges')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', challengeId)
    .where('consumed_at', 'is', null)
    .where('attempts', '<', maxAttempts)
    .executeTakeFirst();
  return { charged: changedExactlyOne(result) };
}

export async function consumeEmailOtpChallenge(
  ctx: StoreContext,
  challengeId: string,
  at: Date,
): Promise<{ consumed: boolean }> {
  // Single use: the second concurrent caller re-evaluates `consumed_at IS NULL` after the first commits.
  const result = await ctx.db
    .updateTable('email_otp_challenges')
    .set({ consumed_at: at.getTime() })
    .where('id', '=', challengeId)
    .where('consumed_at', 'is', null)
    .executeTakeFirst();
  return { consumed: changedExactlyOne(result) };
}

function toChallengeRecord(row: Omit<EmailOtpChallengesTable, 'attempts'> & { attempts: number }) {
  return {
    id: row.id,
    userId: row.user_id,
    attemptId: row.attempt_id,
    digest: row.digest,
    createdAt: toDate(row.created_at),
    expiresAt: toDate(row.expires_at),
    attempts: row.attempts,
    consumedAt: toDateOrNull(row.consumed_at),
  } satisfies EmailOtpChallengeRecord;
}
