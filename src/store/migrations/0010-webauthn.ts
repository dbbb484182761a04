import type { Kysely } from 'kysely';

/*
 * Security keys and passkeys (WebAuthn). Frozen once shipped.
 *
 * webauthn_credentials: one row per registered authenticator. The public key is not secret (it only
 * verifies signatures), so it is stored as is (base64url COSE key); `credential_id` is UNIQUE across all
 * users: one authenticator credential can never belong to two accounts (W3C WebAuthn L2 7.1 step 22).
 * `counter` is the last signature counter seen, kept to refuse one that goes backwards (6.1.1).
 *
 * webauthn_challenges: each ceremony's random challenge, single use (`used_at`), bound to the ceremony
 * (`ceremony`) and to the session or ceremony id that asked for it (`binding_hash`, a SHA-256), expiring
 * at `expires_at` (5 minutes); purged once expired.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webauthn_credentials')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('credential_id', 'text', (col) => col.notNull().unique())
    .addColumn('public_key', 'text', (col) => col.notNull())
    .addColumn('counter', 'bigint', (col) => col.notNull())
    .addColumn('transports', 'text', (col) => col.notNull())
    .addColumn('device_type', 'text', (col) => col.notNull())
    .addColumn('backed_up', 'integer', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('last_used_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('webauthn_credentials_user')
    .on('webauthn_credentials')
    .column('user_id')
    .execute();

  await db.schema
    .createTable('webauthn_challenges')
    .addColumn('challenge', 'text', (col) => col.primaryKey())
    .addColumn('ceremony', 'text', (col) => col.notNull())
    .addColumn('binding_hash', 'text', (col) => col.notNull())
    .addColumn('user_id', 'text', (col) => col.references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('webauthn_challenges').execute();
  await db.schema.dropTable('webauthn_credentials').execute();
}
