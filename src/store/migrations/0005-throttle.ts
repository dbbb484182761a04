import type { Kysely } from 'kysely';

/*
 * Failed-attempt throttling and one-time action links. Frozen once shipped.
 * `throttle_counters`: one row per throttled key (an account, a client address, an account's email sends),
 * shared by every server process on the database. `action_tokens`: single-use emailed links (unlocking a
 * locked second factor); only the SHA-256 of the 256-bit token is stored.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('throttle_counters')
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('failures', 'integer', (col) => col.notNull())
    .addColumn('blocked_until', 'bigint')
    .addColumn('locked_at', 'bigint')
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('throttle_counters_updated_at')
    .on('throttle_counters')
    .column('updated_at')
    .execute();
  await db.schema
    .createTable('action_tokens')
    .addColumn('id_hash', 'text', (col) => col.primaryKey())
    .addColumn('purpose', 'text', (col) => col.notNull())
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('action_tokens_user_purpose')
    .on('action_tokens')
    .columns(['user_id', 'purpose'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('action_tokens').execute();
  await db.schema.dropTable('throttle_counters').execute();
}
