import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Audit events are inserted without a lock and sealed into the hash chain afterwards (decision 0005):
 * - audit_events is rebuilt: `seq` is now given by the database at insert (PostgreSQL: an identity
 *   column, a sequence, no lock held to commit; SQLite: AUTOINCREMENT, never reused), `chain_seq` is the
 *   event's place in the chain, and `chain_seq`, `prev_hash`, `hash` and `sealed_at` stay null until the
 *   sealer links the event. Existing events keep their hashes: their chain place is their seq.
 * - audit_sealer: the one lease row naming the instance that seals, until when (database time, ms).
 * The audit_counts rows are now written by the sealer, for the events it seals, not by every append.
 * Written without importing application code, like every migration.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('audit_events_sealed')
    .addColumn('seq', postgres ? 'bigint' : 'integer', (col) =>
      postgres ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement(),
    )
    .addColumn('at', 'bigint', (col) => col.notNull())
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('outcome', 'text', (col) => col.notNull())
    .addColumn('user_id', 'text')
    .addColumn('actor_id', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('details', 'text', (col) => col.notNull())
    .addColumn('chain_seq', 'bigint')
    .addColumn('prev_hash', 'text')
    .addColumn('hash', 'text')
    .addColumn('sealed_at', 'bigint')
    .execute();
  await sql`insert into audit_events_sealed
      (seq, at, action, outcome, user_id, actor_id, ip, user_agent, details, chain_seq, prev_hash, hash, sealed_at)
    select seq, at, action, outcome, user_id, actor_id, ip, user_agent, details, seq, prev_hash, hash, at
    from audit_events`.execute(db);
  if (postgres) {
    // The identity continues after the copied numbers (SQLite's AUTOINCREMENT already does).
    await sql`select setval(pg_get_serial_sequence('audit_events_sealed', 'seq'),
      coalesce((select max(seq) from audit_events_sealed), 0) + 1, false)`.execute(db);
  }
  await db.schema.dropTable('audit_events').execute();
  await db.schema.alterTable('audit_events_sealed').renameTo('audit_events').execute();
  await db.schema
    .createIndex('audit_events_user_id_seq')
    .on('audit_events')
    .columns(['user_id', 'seq'])
    .execute();
  await db.schema
    .createIndex('audit_events_action_seq')
    .on('audit_events')
    .columns(['action', 'seq'])
    .execute();
  await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();
  // One event per chain place; verification walks this index.
  await db.schema
    .createIndex('audit_events_chain_seq')
    .unique()
    .on('audit_events')
    .column('chain_seq')
    .execute();
  // The sealer's work list: only the (few) events not yet sealed are in it.
  await db.schema
    .createIndex('audit_events_unsealed')
    .on('audit_events')
    .column('seq')
    .where(sql.ref('chain_seq'), 'is', null)
    .execute();

  await db.schema
    .createTable('audit_sealer')
    .addColumn('id', 'integer', (col) => col.primaryKey())
    .addColumn('holder', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .addCheckConstraint('audit_sealer_single_row', sql`id = 1`)
    .execute();
  await sql`insert into audit_sealer (id, holder, expires_at) values (1, '', 0)`.execute(db);
}

export async function down(): Promise<void> {
  // Events sealed after this migration hash their own number beside their chain place; the old table
  // has one number for both, so going back would make them read as altered. Restore a backup instead.
  throw new Error('0012-audit-sealing cannot be undone: restore the database from a backup taken before it');
}
