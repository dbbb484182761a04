import type { Kysely } from 'kysely';

/*
 * Users of a host application, addressed by the host's own id. Frozen once shipped.
 *
 * `external_id`: the host's id for the user (up to 255 characters), unique; NULL for SpareKey's own
 * email-and-password accounts. Both engines allow many NULLs under a unique index.
 *
 * A host user may have no email address. `users.email` stays NOT NULL (SQLite cannot relax a column
 * without rebuilding the table, and rebuilding a table others reference would cascade deletes): such a
 * user is stored with `email = ''` and `email_normalized = ' <user id>'`, a value no address can take
 * (addresses hold no spaces), so the unique index keeps working; the store reads it back as no email.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('external_id', 'text').execute();
  await db.schema.createIndex('users_external_id').on('users').column('external_id').unique().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('users_external_id').execute();
  await db.schema.alterTable('users').dropColumn('external_id').execute();
}
