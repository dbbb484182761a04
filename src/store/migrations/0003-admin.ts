import { type Kysely, sql } from 'kysely';

/*
 * The operator's console. Frozen once shipped, like 0001.
 * - roles: the roles an administrator added (the four built-in ones need no row).
 * - recovery_code_set_counts: how many sets have each `remaining` value, maintained in the transaction
 *   of every change, so "users with codes" and "low on codes" are exact sums of at most 33 rows at any
 *   scale, instead of counting a million sets.
 * - audit_counts: events per action per quarter hour (UTC), maintained by every append; every real time
 *   zone offset is a whole number of quarter hours, so "today" and "this month" in any zone are exact sums.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('roles')
    .addColumn('name', 'text', (col) => col.primaryKey())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();

  await db.schema
    .createTable('recovery_code_set_counts')
    .addColumn('remaining', 'integer', (col) => col.primaryKey())
    .addColumn('sets', 'bigint', (col) => col.notNull())
    .addCheckConstraint('recovery_code_set_counts_non_negative', sql`sets >= 0`)
    .execute();
  await sql`insert into recovery_code_set_counts (remaining, sets)
    select remaining, count(*) from recovery_code_sets group by remaining`.execute(db);

  await db.schema
    .createTable('audit_counts')
    .addColumn('bucket_start', 'bigint', (col) => col.notNull())
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('events', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('audit_counts_pk', ['action', 'bucket_start'])
    .execute();
  await sql`insert into audit_counts (bucket_start, action, events)
    select at - (at % 900000), action, count(*) from audit_events group by at - (at % 900000), action`.execute(
    db,
  );

  // Where the chain starts after a retention purge: the first kept event's predecessor hash.
  await db.schema
    .alterTable('audit_chain_head')
    .addColumn('anchor_seq', 'bigint', (col) => col.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('audit_chain_head')
    .addColumn('anchor_hash', 'text', (col) => col.notNull().defaultTo('0'.repeat(64)))
    .execute();

  // Users with codes, listed by email (keyset pagination) and searched by email prefix.
  await db.schema
    .createIndex('users_email_normalized_id')
    .on('users')
    .columns(['email_normalized', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('users_email_normalized_id').execute();
  await db.schema.alterTable('audit_chain_head').dropColumn('anchor_hash').execute();
  await db.schema.alterTable('audit_chain_head').dropColumn('anchor_seq').execute();
  for (const table of ['audit_counts', 'recovery_code_set_counts', 'roles']) {
    await db.schema.dropTable(table).execute();
  }
}
