import type { Kysely } from 'kysely';

/*
 * Which locks of second factors have been reported (audit event `mfa_locked`, webhook `mfa.locked`).
 * Frozen once shipped. A lock is committed with the charge of the attempt that reaches it; its report
 * comes after that attempt is evaluated, in a transaction of its own, which inserts one row here. The
 * primary key (the throttle key and the lock's time) makes the report happen once per lock, whichever
 * process or attempt makes it, and lets a later attempt see a lock whose process died before reporting.
 * In the database even when the counters are in Redis: the row must commit with the audit event.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('throttle_lock_reports')
    .addColumn('key', 'text', (col) => col.notNull())
    .addColumn('locked_at', 'bigint', (col) => col.notNull())
    .addColumn('reported_at', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('throttle_lock_reports_pkey', ['key', 'locked_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('throttle_lock_reports').execute();
}
