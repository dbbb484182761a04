import { type Kysely, sql } from 'kysely';

/*
 * The sign-ins per application per quarter hour stop being one row shared by every user signing in to
 * that application: oidc_sign_in_counts is rebuilt keyed by (client_id, bucket_start, shard), a sign-in
 * counted in the shard its user's id hashes to (decision 0011), and the statistics sum the shards. So two
 * users' sign-in transactions lock the same counter row only when their ids share a shard.
 * Existing counts go to shard 0; down sums the shards back into one row per application and quarter hour.
 * Written without importing application code, like every migration.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('oidc_sign_in_count_shards')
    .addColumn('client_id', 'text', (col) => col.notNull())
    .addColumn('bucket_start', 'bigint', (col) => col.notNull())
    .addColumn('shard', 'integer', (col) => col.notNull())
    .addColumn('events', 'integer', (col) => col.notNull())
    .addPrimaryKeyConstraint('oidc_sign_in_count_shards_pkey', ['client_id', 'bucket_start', 'shard'])
    .execute();
  await sql`insert into oidc_sign_in_count_shards (client_id, bucket_start, shard, events)
    select client_id, bucket_start, 0, events from oidc_sign_in_counts`.execute(db);
  await db.schema.dropTable('oidc_sign_in_counts').execute();
  await db.schema.alterTable('oidc_sign_in_count_shards').renameTo('oidc_sign_in_counts').execute();
  await db.schema
    .createIndex('oidc_sign_in_counts_bucket_start')
    .on('oidc_sign_in_counts')
    .column('bucket_start')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('oidc_sign_in_counts_single')
    .addColumn('client_id', 'text', (col) => col.notNull())
    .addColumn('bucket_start', 'bigint', (col) => col.notNull())
    .addColumn('events', 'integer', (col) => col.notNull())
    .addPrimaryKeyConstraint('oidc_sign_in_counts_pkey', ['client_id', 'bucket_start'])
    .execute();
  await sql`insert into oidc_sign_in_counts_single (client_id, bucket_start, events)
    select client_id, bucket_start, sum(events) from oidc_sign_in_counts
    group by client_id, bucket_start`.execute(db);
  await db.schema.dropTable('oidc_sign_in_counts').execute();
  await db.schema.alterTable('oidc_sign_in_counts_single').renameTo('oidc_sign_in_counts').execute();
  await db.schema
    .createIndex('oidc_sign_in_counts_bucket_start')
    .on('oidc_sign_in_counts')
    .column('bucket_start')
    .execute();
}
