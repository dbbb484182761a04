import type { Kysely } from 'kysely';

/*
 * How a signed-in session was reached (password, totp, email, recovery_code, remembered_device, ...).
 * Frozen once shipped. The OpenID Connect provider tells applications which factors were used (`amr`,
 * RFC 8176) and refuses one-factor sign-ins to applications that require two: that must come from the
 * session itself, not from the audit log. Null for sessions created before this column existed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('sign_in_method', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('sign_in_method').execute();
}
