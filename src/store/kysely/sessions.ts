import type { Kysely } from 'kysely';
import type { NewSession, SessionRecord, SessionStage, UserRecord } from '../store.js';
import { compiledOnce } from './compiled-once.js';
import { type StoreContext, toDate } from './context.js';
import type { Database, SessionsTable } from './database.js';
import { toUserRecord } from './users.js';

const toRow = (session: NewSession): SessionsTable => ({
  id_hash: session.idHash,
  user_id: session.userId,
  stage: session.stage,
  attempt_id: session.attemptId,
  created_at: session.createdAt.getTime(),
  last_seen_at: session.lastSeenAt.getTime(),
  expires_at: session.expiresAt.getTime(),
  ip: session.ip,
  user_agent: session.userAgent,
  sign_in_method: session.signInMethod ?? null,
});

const toRecord = (row: SessionsTable): SessionRecord => ({
  idHash: row.id_hash,
  userId: row.user_id,
  stage: row.stage as SessionStage,
  attemptId: row.attempt_id,
  createdAt: toDate(row.created_at),
  lastSeenAt: toDate(row.last_seen_at),
  expiresAt: toDate(row.expires_at),
  ip: row.ip,
  userAgent: row.user_agent,
  signInMethod: row.sign_in_method,
});

export async function createSession(ctx: StoreContext, session: NewSession): Promise<void> {
  await ctx.db.insertInto('sessions').values(toRow(session)).execute();
}

export async function findSession(ctx: StoreContext, idHash: string): Promise<SessionRecord | undefined> {
  const row = await ctx.db
    .selectFrom('sessions')
    .selectAll()
    .where('id_hash', '=', idHash)
    .executeTakeFirst();
  return row && toRecord(row);
}

function sessionWithUserQuery(db: Kysely<Database>, idHash: string) {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .leftJoin('user_roles', 'user_roles.user_id', 'sessions.user_id')
    .select([
      'sessions.id_hash',
      'sessions.user_id',
      'sessions.stage',
      'sessions.attempt_id',
      'sessions.created_at',
      'sessions.last_seen_at',
      'sessions.expires_at',
      'sessions.ip',
      'sessions.user_agent',
      'sessions.sign_in_method',
      'users.email',
      'users.password_hash',
      'users.created_at as user_created_at',
      'users.external_id',
      'user_roles.role',
    ])
    .where('sessions.id_hash', '=', idHash)
    .orderBy('user_roles.role');
}

/**
 * Compiled once per database handle (compiled-once.ts): every request with a session cookie runs it, and
 * forward auth's verdicts, one per request to a protected app. The id is its only parameter.
 */
const sessionWithUser = compiledOnce('findSessionWithUser', (db) => sessionWithUserQuery(db, ''), 1);

/**
 * One statement for the session, its user and the user's roles: one row per role (or one row with a null
 * role), ordered by role as `findUserById` lists them.
 */
export async function findSessionWithUser(
  ctx: StoreContext,
  idHash: string,
): Promise<{ session: SessionRecord; user: UserRecord } | undefined> {
  const { rows } = await sessionWithUser(ctx.db, [idHash]);
  const first = rows[0];
  if (!first) return undefined;
  const roles = rows.flatMap((row) => (row.role === null ? [] : [row.role]));
  const user = toUserRecord(
    {
      id: first.user_id,
      email: first.email,
      password_hash: first.password_hash,
      created_at: first.user_created_at,
      external_id: first.external_id,
    },
    roles,
  );
  return { session: toRecord(first), user };
}

export async function replaceSession(
  ctx: StoreContext,
  oldIdHash: string,
  next: NewSession,
): Promise<{ replaced: boolean }> {
  return ctx.atomic(async (db) => {
    // The DELETE is the decision: under READ COMMITTED a concurrent rotation waits on the row and then
    // deletes nothing, so only one of them goes on to create a successor.
    const deleted = await db.deleteFrom('sessions').where('id_hash', '=', oldIdHash).executeTakeFirst();
    if (deleted.numDeletedRows !== 1n) return { replaced: false };
    await db.insertInto('sessions').values(toRow(next)).execute();
    return { replaced: true };
  });
}

export async function touchSession(
  ctx: StoreContext,
  idHash: string,
  lastSeenAt: Date,
  expiresAt: Date,
): Promise<void> {
  await ctx.db
    .updateTable('sessions')
    .set({ last_seen_at: lastSeenAt.getTime(), expires_at: expiresAt.getTime() })
    .where('id_hash', '=', idHash)
    .execute();
}

export async function deleteSession(ctx: StoreContext, idHash: string): Promise<{ deleted: boolean }> {
  const result = await ctx.db.deleteFrom('sessions').where('id_hash', '=', idHash).executeTakeFirst();
  return { deleted: result.numDeletedRows === 1n };
}

export async function deleteUserSessions(
  ctx: StoreContext,
  userId: string,
  exceptIdHash?: string,
): Promise<number> {
  const result = await ctx.db
    .deleteFrom('sessions')
    .where('user_id', '=', userId)
    .$if(exceptIdHash !== undefined, (query) => query.where('id_hash', '!=', exceptIdHash as string))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function deleteExpiredSessions(ctx: StoreContext, now: Date): Promise<number> {
  const result = await ctx.db
    .deleteFrom('sessions')
    .where('expires_at', '<=', now.getTime())
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
