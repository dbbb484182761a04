import type { Kysely } from 'kysely';
import type { NewUser, Store, UserRecord } from '../store.js';
import { lockUser, type StoreContext, toDate } from './context.js';
import type { Database, UsersTable } from './database.js';

/** The form in which emails are compared and kept unique. */
export const normalizeEmail = (email: string): string => email.toLowerCase();

export async function createUser(ctx: StoreContext, user: NewUser): ReturnType<Store['createUser']> {
  return ctx.atomic(async (db) => {
    // ON CONFLICT DO NOTHING rather than catching the unique violation: on PostgreSQL a failed statement
    // aborts the whole transaction, so a caller's transaction could not go on (e.g. to audit the refusal).
    // Under READ COMMITTED a concurrent insert of the same address waits for the first to commit and then
    // does nothing, so exactly one of them creates the user. A clash on `id` still throws (misuse).
    const inserted = await db
      .insertInto('users')
      .values({
        id: user.id,
        email: user.email,
        email_normalized: normalizeEmail(user.email),
        password_hash: user.passwordHash,
        created_at: user.createdAt.getTime(),
      })
      .onConflict((conflict) => conflict.column('email_normalized').doNothing())
      .executeTakeFirst();
    if (inserted.numInsertedOrUpdatedRows !== 1n) return { created: false, reason: 'email_taken' } as const;
    await insertRoles(db, user.id, user.roles);
    return { created: true } as const;
  });
}

export async function findUserByEmail(ctx: StoreContext, email: string): Promise<UserRecord | undefined> {
  const row = await ctx.db
    .selectFrom('users')
    .selectAll()
    .where('email_normalized', '=', normalizeEmail(email))
    .executeTakeFirst();
  return row && toUserRecord(row, await listRoles(ctx.db, row.id));
}

export async function findUserById(ctx: StoreContext, userId: string): Promise<UserRecord | undefined> {
  const row = await ctx.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
  return row && toUserRecord(row, await listRoles(ctx.db, row.id));
}

export async function setUserRoles(
  ctx: StoreContext,
  userId: string,
  roles: readonly string[],
): Promise<void> {
  await ctx.atomic(async (db) => {
    // The user lock serializes concurrent replacements, so the result is one caller's list, never a mix
    // (and never a unique violation from two callers inserting the same role).
    await lockUser(ctx, db, userId);
    await db.deleteFrom('user_roles').where('user_id', '=', userId).execute();
    await insertRoles(db, userId, roles);
  });
}

export async function countUsers(ctx: StoreContext): Promise<number> {
  const row = await ctx.db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

async function insertRoles(db: Kysely<Database>, userId: string, roles: readonly string[]): Promise<void> {
  const unique = [...new Set(roles)];
  if (unique.length === 0) return;
  await db
    .insertInto('user_roles')
    .values(unique.map((role) => ({ user_id: userId, role })))
    .execute();
}

async function listRoles(db: Kysely<Database>, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('user_roles')
    .select('role')
    .where('user_id', '=', userId)
    .orderBy('role')
    .execute();
  return rows.map((row) => row.role);
}

type UserRow = Omit<UsersTable, 'code_set_version'> & { code_set_version: number };

function toUserRecord(row: UserRow, roles: string[]): UserRecord {
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    roles,
    createdAt: toDate(row.created_at),
  };
}
