import type { Kysely } from 'kysely';

/*
 * The OpenID Connect provider's state. Frozen once shipped.
 *
 * `oidc_models`: every short-lived object oidc-provider keeps (authorization codes, sessions, grants,
 * interactions, access and refresh tokens, replay records), one row per (model, id), its payload as JSON.
 * Nothing stays in process memory, so a flow begun on one instance finishes on another. `grant_id`
 * revokes everything issued under one grant (a replayed code revokes its tokens); `uid` finds a session
 * by its cookie value; `consumed_at` is set once by a conditional UPDATE (a code is redeemed once).
 *
 * `oidc_clients`: the applications an administrator registered. Only the SHA-256 of a client's 256-bit
 * secret is stored (ASVS 5.0 6.5.2: a plain hash suffices above 112 bits of entropy).
 *
 * `oidc_signing_keys`: the provider's signing keys, each private JWK sealed (AES-256-GCM) like the TOTP
 * seeds. A rotated-out key gets `expires_at`: it stays published until the tokens it signed have expired.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('oidc_models')
    .addColumn('model', 'text', (col) => col.notNull())
    .addColumn('id', 'text', (col) => col.notNull())
    .addColumn('payload', 'text', (col) => col.notNull())
    .addColumn('grant_id', 'text')
    .addColumn('uid', 'text')
    .addColumn('user_code', 'text')
    .addColumn('expires_at', 'bigint')
    .addColumn('consumed_at', 'bigint')
    .addPrimaryKeyConstraint('oidc_models_pkey', ['model', 'id'])
    .execute();
  await db.schema.createIndex('oidc_models_grant_id').on('oidc_models').column('grant_id').execute();
  await db.schema.createIndex('oidc_models_uid').on('oidc_models').columns(['model', 'uid']).execute();
  await db.schema.createIndex('oidc_models_expires_at').on('oidc_models').column('expires_at').execute();

  await db.schema
    .createTable('oidc_clients')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('redirect_uris', 'text', (col) => col.notNull())
    .addColumn('post_logout_redirect_uris', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('first_party', 'integer', (col) => col.notNull())
    .addColumn('two_factor_required', 'integer', (col) => col.notNull())
    .addColumn('scopes', 'text', (col) => col.notNull())
    .addColumn('secret_hash', 'text')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .addColumn('disabled_at', 'bigint')
    .execute();

  await db.schema
    .createTable('oidc_signing_keys')
    .addColumn('kid', 'text', (col) => col.primaryKey())
    .addColumn('sealed_jwk', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('expires_at', 'bigint')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('oidc_signing_keys').execute();
  await db.schema.dropTable('oidc_clients').execute();
  await db.schema.dropTable('oidc_models').execute();
}
