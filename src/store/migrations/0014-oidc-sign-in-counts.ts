import type { Kysely } from 'kysely';

/*
 * Sign-ins to each application, counted per UTC quarter hour in the transaction that issues the
 * authorization code (and audits the sign-in). Frozen once shipped. The statistics read these counters,
 * a few thousand rows at most, rather than scanning the audit log, whose retention is the operator's
 * and whose details are JSON the engines query differently.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('oidc_sign_in_counts')
    .addColumn('client_id', 'text', (col) => col.notNull())
    .addColumn('bucket_start', 'bigint', (col) => col.notNull())
    .addColumn('events', 'integer', (col) => col.notNull())
    .addPrimaryKeyConstraint('oidc_sign_in_counts_pkey', ['client_id', 'bucket_start'])
    .execute();
  await db.schema
    .createIndex('oidc_sign_in_counts_bucket_start')
    .on('oidc_sign_in_counts')
    .column('bucket_start')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('oidc_sign_in_counts').execute();
}
