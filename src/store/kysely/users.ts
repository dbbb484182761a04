import type { Kysely } from 'kysely';
import type { NewUser, Store, UserRecord, UsersWithCodesQuery, UserWithCodes } from '../store.js';
import { changedExactlyOne, lockUser, type StoreContext, toDate } from './context.js';
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

export async function setPasswordHash(
  ctx: StoreContext,
  userId: string,
  passwordHash: string,
): Promise<{ updated: boolean }> {
  const result = await ctx.db
    .updateTable('users')
    .set({ password_hash: passwordHash })
    .where('id', '=', userId)
    .executeTakeFirst();
  return { updated: changedExactlyOne(result) };
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

export async function listCustomRoles(ctx: StoreContext): Promise<string[]> {
  const rows = await ctx.db.selectFrom('roles').select('name').orderBy('name').execute();
  return rows.map((row) => row.name);
}

export async function addCustomRole(ctx: StoreContext, name: string, at: Date): Promise<{ added: boolean }> {
  const inserted = await ctx.db
    .insertInto('roles')
    .values({ name, created_at: at.getTime() })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .executeTakeFirst();
  return { added: inserted.numInsertedOrUpdatedRows === 1n };
}

export async function listUsersWithCodes(
  ctx: StoreContext,
  query: UsersWithCodesQuery,
): Promise<UserWithCodes[]> {
  const prefix = query.emailPrefix ? normalizeEmail(query.emailPrefix) : undefined;
  const after = query.after && { email: normalizeEmail(query.after.email), id: query.after.id };
  // Walks users in (email_normalized, id) index order from the cursor, probing each one's set by its
  // unique user_id: no OFFSET, no sort, whatever page is asked for.
  const rows = await ctx.db
    .selectFrom('users as u')
    .innerJoin('recovery_code_sets as s', 's.user_id', 'u.id')
    .select([
      'u.id',
      'u.email',
      'u.email_normalized',
      's.total',
      's.remaining',
      's.generated_at',
      's.last_used_at',
    ])
    .$if(prefix !== undefined, (q) =>
      // A range, not LIKE: it uses the index on both engines and treats % and _ as ordinary characters.
      q
        .where('u.email_normalized', '>=', prefix as string)
        .where('u.email_normalized', '<', `${prefix}\uffff`),
    )
    // email_normalized is UNIQUE, so it alone is the cursor: a plain range the index answers directly.
    .$if(after !== undefined, (q) => q.where('u.email_normalized', '>', after?.email as string))
    .orderBy('u.email_normalized')
    .limit(query.limit)
    .execute();
  const roles = await rolesOf(
    ctx.db,
    rows.map((row) => row.id),
  );
  return rows.map((row) => ({
    id: row.id,
    email: row.email,
    roles: roles.get(row.id) ?? [],
    total: row.total,
    remaining: row.remaining,
    generatedAt: toDate(row.generated_at),
    lastUsedAt: row.last_used_at === null ? null : toDate(row.last_used_at),
  }));
}

async function rolesOf(db: Kysely<Database>, userIds: string[]): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  if (userIds.length === 0) return map;
  const rows = await db
    .selectFrom('user_roles')
    .select(['user_id', 'role'])
    .where('user_id', 'in', userIds)
    .orderBy('role')
    .execute();
  for (const row of rows) map.set(row.user_id, [...(map.get(row.user_id) ?? []), row.role]);
  return map;
}

export async function listUsers(
  ctx: StoreContext,
  query: { afterEmail?: string; limit: number },
): Promise<UserRecord[]> {
  const rows = await ctx.db
    .selectFrom('users')
    .selectAll()
    .$if(query.afterEmail !== undefined, (q) =>
      q.where('email_normalized', '>', normalizeEmail(query.afterEmail as string)),
    )
    .orderBy('email_normalized')
    .limit(query.limit)
    .execute();
  const roles = await rolesOf(
    ctx.db,
    rows.map((row) => row.id),
  );
  return rows.map((row) => toUserRecord(row, roles.get(row.id) ?? []));
}
