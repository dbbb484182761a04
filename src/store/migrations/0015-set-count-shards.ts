import { type Kysely, sql } from 'kysely';

/*
 * The "sets per remaining count" statistics stop being one row per count shared by every user:
 * - recovery_code_set_counts is rebuilt keyed by (remaining, shard). A set is counted in the shard its
 *   owner's id hashes to, so two users' recovery transactions lock the same counter row only when their
 *   ids share a shard AND their sets hold the same count. The statistics are the sum over the shards.
 * - recovery_code_sets.count_shard remembers which shard a set was counted in, so the transaction that
 *   moves or removes it changes that very row and no shard ever goes below zero (the CHECK stays).
 * Existing counts go to shard 0, where the existing sets (count_shard 0) were counted.
 * Written without importing application code, like every migration.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('recovery_code_sets')
    .addColumn('count_shard', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable('recovery_code_set_count_shards')
    .addColumn('remaining', 'integer', (col) => col.notNull())
    .addColumn('shard', 'integer', (col) => col.notNull())
    .addColumn('sets', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('recovery_code_set_count_shards_pk', ['remaining', 'shard'])
    .addCheckConstraint('recovery_code_set_count_shards_non_negative', sql`sets >= 0`)
    .execute();
  await sql`insert into recovery_code_set_count_shards (remaining, shard, sets)
    select remaining, 0, sets from recovery_code_set_counts`.execute(db);
  await db.schema.dropTable('recovery_code_set_counts').execute();
  await db.schema.alterTable('recovery_code_set_count_shards').renameTo('recovery_code_set_counts').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('recovery_code_set_counts_single')
    .addColumn('remaining', 'integer', (col) => col.primaryKey())
    .addColumn('sets', 'bigint', (col) => col.notNull())
    .addCheckConstraint('recovery_code_set_counts_non_negative', sql`sets >= 0`)
    .execute();
  await sql`insert into recovery_code_set_counts_single (remaining, sets)
    select remaining, sum(sets) from recovery_code_set_counts group by remaining`.execute(db);
  await db.schema.dropTable('recovery_code_set_counts').execute();
  await db.schema
    .alterTable('recovery_code_set_counts_single')
    .renameTo('recovery_code_set_counts')
    .execute();
  await db.schema.alterTable('recovery_code_sets').dropColumn('count_shard').execute();
}
