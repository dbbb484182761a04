import { type Kysely, sql } from 'kysely';
import { ADMINISTRATOR_ROLE } from '../../core/policy.js';
import type {
  DeletedUser,
  NewUser,
  Store,
  UserRecord,
  UsersWithCodesQuery,
  UserWithCodes,
  WriteOutcome,
} from '../store.js';
import { compiledOnce } from './compiled-once.js';
import { changedExactlyOne, lockUser, type StoreContext, toDate } from './context.js';
import type { Database, UsersTable } from './database.js';
import { removeSetOf } from './recovery-codes.js';

/** The form in which emails are compared and kept unique. */
export const normalizeEmail = (email: string): string => email.toLowerCase();

/**
 * The stored form of a user's email (see migration 0011): a host user without one keeps `''` and a
 * normalized value no address can take (a leading space), unique per user.
 */
function storedEmail(userId: string, email: string | null) {
  return email === null
    ? { email: '', email_normalized: ` ${userId}` }
    : { email, email_normalized: normalizeEmail(email) };
}

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
        ...storedEmail(user.id, user.email),
        password_hash: user.passwordHash,
        created_at: user.createdAt.getTime(),
        external_id: user.externalId ?? null,
      })
      // No conflict target: a taken email and a taken external id are both "not created" (and a clash
      // on `id`, a random UUID, would be too; the caller's lookup then finds the other user).
      .onConflict((conflict) => conflict.doNothing())
      .executeTakeFirst();
    if (inserted.numInsertedOrUpdatedRows !== 1n) {
      const byExternalId =
        user.externalId !== undefined && (await findByColumn(db, 'external_id', user.externalId));
      return { created: false, reason: byExternalId ? 'external_id_taken' : 'email_taken' } as const;
    }
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

export async function findUserByExternalId(
  ctx: StoreContext,
  externalId: string,
): Promise<UserRecord | undefined> {
  const row = await ctx.db
    .selectFrom('users')
    .selectAll()
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  return row && toUserRecord(row, await listRoles(ctx.db, row.id));
}

async function findByColumn(db: Kysely<Database>, column: 'external_id', value: string): Promise<boolean> {
  return (
    (await db.selectFrom('users').select('id').where(column, '=', value).executeTakeFirst()) !== undefined
  );
}

/** PostgreSQL unique_violation; SQLite's is never met here (one writer at a time, checked first). */
const UNIQUE_VIOLATION = '23505';

export async function setUserEmail(
  ctx: StoreContext,
  userId: string,
  email: string | null,
): ReturnType<Store['setUserEmail']> {
  return ctx.atomic(async (db) => {
    if (!(await lockUser(ctx, db, userId))) return { updated: false, reason: 'user_not_found' } as const;
    const stored = storedEmail(userId, email);
    const holder = await db
      .selectFrom('users')
      .select('id')
      .where('email_normalized', '=', stored.email_normalized)
      .where('id', '<>', userId)
      .executeTakeFirst();
    if (holder) return { updated: false, reason: 'email_taken' } as const;
    // Two users taking one address at once both pass the check above (each holds only its own lock); the
    // second UPDATE then meets the unique index. A savepoint keeps the caller's transaction usable.
    if (ctx.engine.supportsRowLocks) await sql`savepoint set_user_email`.execute(db);
    try {
      await db.updateTable('users').set(stored).where('id', '=', userId).execute();
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      await sql`rollback to savepoint set_user_email`.execute(db);
      return { updated: false, reason: 'email_taken' } as const;
    }
    if (ctx.engine.supportsRowLocks) await sql`release savepoint set_user_email`.execute(db);
    return { updated: true } as const;
  });
}

export async function deleteUser(
  ctx: StoreContext,
  userId: string,
): Promise<WriteOutcome<'deleted', 'user_not_found' | 'last_administrator', { removed: DeletedUser }>> {
  return ctx.atomic(async (db) => {
    if (await isLastAdministrator(ctx, db, userId)) return { deleted: false, reason: 'last_administrator' };
    if (!(await lockUser(ctx, db, userId))) return { deleted: false, reason: 'user_not_found' };
    const count = async (
      table:
        | 'mfa_factors'
        | 'webauthn_credentials'
        | 'recovery_code_sets'
        | 'sessions'
        | 'remembered_devices',
    ) => {
      const row = await db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number | string>().as('count'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    };
    const removed = {
      // Security keys are factors too, kept in their own table.
      factors: (await count('mfa_factors')) + (await count('webauthn_credentials')),
      recoveryCodeSets: await count('recovery_code_sets'),
      sessions: await count('sessions'),
      rememberedDevices: await count('remembered_devices'),
    };
    // Keys record their creator as the actor id, which for a person is their user id.
    const keys = await db.deleteFrom('api_keys').where('created_by', '=', userId).executeTakeFirst();
    // The set leaves the statistics with the user (a cascade would leave it counted).
    await removeSetOf(db, userId);
    // Everything else of the user goes with the row: every table holding a user_id references users.id
    // ON DELETE CASCADE.
    await db.deleteFrom('users').where('id', '=', userId).execute();
    return { deleted: true, removed: { ...removed, apiKeys: Number(keys.numDeletedRows) } };
  });
}

/** Read by most requests (the API's user paths, notices, webhooks): compiled once (compiled-once.ts). */
const userById = compiledOnce(
  'findUserById',
  (db) => db.selectFrom('users').selectAll().where('id', '=', ''),
  1,
);

export async function findUserById(ctx: StoreContext, userId: string): Promise<UserRecord | undefined> {
  const row = (await userById(ctx.db, [userId])).rows[0];
  return row && toUserRecord(row, await listRoles(ctx.db, row.id));
}

/** The id alone, by either id: compiled once, read by every request to the API's by-user paths. */
const userIdById = compiledOnce(
  'findUserId',
  (db) => db.selectFrom('users').select('id').where('id', '=', ''),
  1,
);
const userIdByExternalId = compiledOnce(
  'findUserIdByExternalId',
  (db) => db.selectFrom('users').select('id').where('external_id', '=', ''),
  1,
);

export async function findUserId(
  ctx: StoreContext,
  ref: { userId: string } | { externalId: string },
): Promise<string | undefined> {
  const found =
    'userId' in ref
      ? await userIdById(ctx.db, [ref.userId])
      : await userIdByExternalId(ctx.db, [ref.externalId]);
  return found.rows[0]?.id;
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
): Promise<WriteOutcome<'updated', 'user_not_found' | 'last_administrator'>> {
  return ctx.atomic(async (db) => {
    if (!roles.includes(ADMINISTRATOR_ROLE) && (await isLastAdministrator(ctx, db, userId)))
      return { updated: false, reason: 'last_administrator' } as const;
    // The user lock serializes concurrent replacements, so the result is one caller's list, never a mix
    // (and never a unique violation from two callers inserting the same role).
    if (!(await lockUser(ctx, db, userId))) return { updated: false, reason: 'user_not_found' } as const;
    await db.deleteFrom('user_roles').where('user_id', '=', userId).execute();
    await insertRoles(db, userId, roles);
    return { updated: true } as const;
  });
}

/**
 * Whether `userId` is the only administrator, so that deleting it or taking its role would leave nobody
 * to run the site. On PostgreSQL it first locks the user's row and every administrator's, in id order,
 * so two removals of administrators serialize: the second waits for the first to commit, and its next
 * statement (a new READ COMMITTED snapshot) sees what the first did. Without the locks, two transactions
 * could each see the other administrator and remove the last two at once. SQLite's one writer already
 * serializes them. Administrators are few, and only these removals lock them all.
 */
async function isLastAdministrator(
  ctx: StoreContext,
  db: Kysely<Database>,
  userId: string,
): Promise<boolean> {
  if (ctx.engine.supportsRowLocks) {
    await db
      .selectFrom('users')
      .select('id')
      .where((eb) =>
        eb.or([
          eb('id', '=', userId),
          eb(
            'id',
            'in',
            eb.selectFrom('user_roles').select('user_id').where('role', '=', ADMINISTRATOR_ROLE),
          ),
        ]),
      )
      .orderBy('id')
      .forNoKeyUpdate()
      .execute();
  }
  const administrators = db.selectFrom('user_roles').select('user_id').where('role', '=', ADMINISTRATOR_ROLE);
  const self = await administrators.where('user_id', '=', userId).executeTakeFirst();
  if (self === undefined) return false;
  const another = await administrators.where('user_id', '<>', userId).limit(1).executeTakeFirst();
  return another === undefined;
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

const rolesByUser = compiledOnce(
  'listRoles',
  (db) => db.selectFrom('user_roles').select('role').where('user_id', '=', '').orderBy('role'),
  1,
);

async function listRoles(db: Kysely<Database>, userId: string): Promise<string[]> {
  return (await rolesByUser(db, [userId])).rows.map((row) => row.role);
}

type UserRow = Omit<UsersTable, 'code_set_version'> & { code_set_version: number };

/** What a user record is made of (a join may bring just these columns). */
export function toUserRecord(
  row: Omit<UserRow, 'code_set_version' | 'email_normalized'>,
  roles: string[],
): UserRecord {
  return {
    id: row.id,
    email: row.email === '' ? null : row.email,
    passwordHash: row.password_hash,
    roles,
    createdAt: toDate(row.created_at),
    ...(row.external_id === null ? {} : { externalId: row.external_id }),
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
