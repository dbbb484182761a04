import { type Kysely, sql } from 'kysely';

/*
 * Frozen in time: never edit a migration that has shipped; add the next one instead. It imports nothing
 * from the application (not even AUDIT_GENESIS_HASH), so later code changes cannot alter what it does.
 * Times are integer milliseconds since the epoch in `bigint` columns (INTEGER affinity on SQLite).
 */

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('email', 'text', (col) => col.notNull())
    .addColumn('email_normalized', 'text', (col) => col.notNull().unique())
    .addColumn('password_hash', 'text')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('code_set_version', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('user_roles')
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'role'])
    .execute();

  await db.schema
    .createTable('mfa_factors')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('secret_ciphertext', 'text')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('confirmed_at', 'bigint')
    .addColumn('last_used_step', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addCheckConstraint('mfa_factors_kind', sql`kind in ('totp', 'email')`)
    .execute();
  await db.schema.createIndex('mfa_factors_user_id').on('mfa_factors').column('user_id').execute();

  await db.schema
    .createTable('recovery_code_sets')
    .addColumn('id', 'text', (col) => col.primaryKey())
    // UNIQUE: at most one live set per user, whatever the code above the schema does.
    .addColumn('user_id', 'text', (col) => col.notNull().unique().references('users.id').onDelete('cascade'))
    .addColumn('generated_at', 'bigint', (col) => col.notNull())
    .addColumn('total', 'integer', (col) => col.notNull())
    .addColumn('remaining', 'integer', (col) => col.notNull())
    .addColumn('last_used_at', 'bigint')
    .addCheckConstraint('recovery_code_sets_remaining', sql`remaining >= 0 and remaining <= total`)
    .execute();
  // For statistics (how many users are running low on codes).
  await db.schema
    .createIndex('recovery_code_sets_remaining')
    .on('recovery_code_sets')
    .column('remaining')
    .execute();

  await db.schema
    .createTable('recovery_codes')
    .addColumn('set_id', 'text', (col) =>
      col.notNull().references('recovery_code_sets.id').onDelete('cascade'),
    )
    .addColumn('slot', 'integer', (col) => col.notNull())
    .addColumn('digest', 'text', (col) => col.notNull())
    .addColumn('used_at', 'bigint')
    .addPrimaryKeyConstraint('recovery_codes_pk', ['set_id', 'slot'])
    .execute();

  await db.schema
    .createTable('email_otp_challenges')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('attempt_id', 'text', (col) => col.notNull())
    .addColumn('digest', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('consumed_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('email_otp_challenges_attempt_id')
    .on('email_otp_challenges')
    .column('attempt_id')
    .execute();

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('value', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute();

  await createAuditTables(db);
}

async function createAuditTables(db: Kysely<unknown>): Promise<void> {
  // No foreign key to users: the audit trail outlives the accounts it describes.
  await db.schema
    .createTable('audit_events')
    .addColumn('seq', 'bigint', (col) => col.primaryKey())
    .addColumn('at', 'bigint', (col) => col.notNull())
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('outcome', 'text', (col) => col.notNull())
    .addColumn('user_id', 'text')
    .addColumn('actor_id', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('details', 'text', (col) => col.notNull())
    .addColumn('prev_hash', 'text', (col) => col.notNull())
    .addColumn('hash', 'text', (col) => col.notNull())
    .execute();
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

  // One row; its lock serializes appenders so the chain has a single order across processes.
  await db.schema
    .createTable('audit_chain_head')
    .addColumn('id', 'integer', (col) => col.primaryKey())
    .addColumn('last_seq', 'bigint', (col) => col.notNull())
    .addColumn('last_hash', 'text', (col) => col.notNull())
    .addCheckConstraint('audit_chain_head_single_row', sql`id = 1`)
    .execute();
  // The genesis hash (64 zeros), written out here rather than imported: see the note at the top.
  await sql`insert into audit_chain_head (id, last_seq, last_hash) values (1, 0, ${'0'.repeat(64)})`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'audit_chain_head',
    'audit_events',
    'settings',
    'email_otp_challenges',
    'recovery_codes',
    'recovery_code_sets',
    'mfa_factors',
    'user_roles',
    'users',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
