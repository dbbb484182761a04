import type { Kysely } from 'kysely';

/*
 * Browser sessions. Frozen once shipped, like 0001. The primary key is the SHA-256 of the cookie's token,
 * never the token itself: a copy of the database cannot be replayed as a cookie.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sessions')
    .addColumn('id_hash', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
    // 'second_factor': the password was right, a second factor is still owed; 'signed_in': done.
    .addColumn('stage', 'text', (col) => col.notNull())
    // Binds emailed sign-in codes to this sign-in attempt (kept across the rotations of one attempt).
    .addColumn('attempt_id', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('last_seen_at', 'bigint', (col) => col.notNull())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('sessions_user_id').on('sessions').column('user_id').execute();
  await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sessions').execute();
}
