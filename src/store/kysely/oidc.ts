import { sql } from 'kysely';
import { AUDIT_BUCKET_MS } from '../domains/audit-store.js';
import type {
  NewOidcClient,
  NewOidcModelRow,
  NewOidcSigningKey,
  OidcClientChanges,
  OidcClientRecord,
  OidcModelRecord,
  OidcSignInBucket,
  OidcSigningKeyRecord,
} from '../oidc-store.js';
import { changedExactlyOne, type StoreContext, toDate, toDateOrNull } from './context.js';
import { counterShardOf } from './counter-shards.js';
import type { OidcClientsTable, OidcModelsTable } from './database.js';

const toModelRecord = (row: Pick<OidcModelsTable, 'payload' | 'expires_at' | 'consumed_at'>) => ({
  payload: row.payload,
  expiresAt: toDateOrNull(row.expires_at),
  consumedAt: toDateOrNull(row.consumed_at),
});

export async function upsertOidcModel(
  ctx: StoreContext,
  model: string,
  id: string,
  row: NewOidcModelRow,
): Promise<void> {
  const values = {
    payload: row.payload,
    grant_id: row.grantId,
    uid: row.uid,
    user_code: row.userCode,
    expires_at: row.expiresAt?.getTime() ?? null,
  };
  // One statement, so two instances saving one session at once never fail on the primary key.
  await ctx.db
    .insertInto('oidc_models')
    .values({ model, id, ...values, consumed_at: null })
    .onConflict((conflict) => conflict.columns(['model', 'id']).doUpdateSet(values))
    .execute();
}

async function findBy(
  ctx: StoreContext,
  model: string,
  column: 'id' | 'uid' | 'user_code',
  value: string,
): Promise<OidcModelRecord | undefined> {
  const row = await ctx.db
    .selectFrom('oidc_models')
    .select(['payload', 'expires_at', 'consumed_at'])
    .where('model', '=', model)
    .where(column, '=', value)
    .executeTakeFirst();
  return row && toModelRecord(row);
}

export const findOidcModel = (ctx: StoreContext, model: string, id: string) => findBy(ctx, model, 'id', id);
export const findOidcModelByUid = (ctx: StoreContext, model: string, uid: string) =>
  findBy(ctx, model, 'uid', uid);
export const findOidcModelByUserCode = (ctx: StoreContext, model: string, userCode: string) =>
  findBy(ctx, model, 'user_code', userCode);

export async function consumeOidcModel(
  ctx: StoreContext,
  model: string,
  id: string,
  at: Date,
): Promise<{ consumed: boolean }> {
  // Conditional on consumed_at IS NULL: under READ COMMITTED a second UPDATE waits for the first and
  // re-checks the condition, finding it false, so exactly one caller changes the row.
  const result = await ctx.db
    .updateTable('oidc_models')
    .set({ consumed_at: at.getTime() })
    .where('model', '=', model)
    .where('id', '=', id)
    .where('consumed_at', 'is', null)
    .executeTakeFirst();
  return { consumed: changedExactlyOne(result) };
}

export async function destroyOidcModel(ctx: StoreContext, model: string, id: string): Promise<void> {
  await ctx.db.deleteFrom('oidc_models').where('model', '=', model).where('id', '=', id).execute();
}

export async function revokeOidcGrant(ctx: StoreContext, grantId: string): Promise<number> {
  const result = await ctx.db.deleteFrom('oidc_models').where('grant_id', '=', grantId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

const toClientRecord = (row: OidcClientsTable): OidcClientRecord => ({
  id: row.id,
  name: row.name,
  redirectUris: JSON.parse(row.redirect_uris) as string[],
  postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
  kind: row.kind === 'public' ? 'public' : 'confidential',
  firstParty: row.first_party === 1,
  twoFactorRequired: row.two_factor_required === 1,
  scopes: row.scopes.split(' ').filter(Boolean),
  secretHash: row.secret_hash,
  createdAt: toDate(row.created_at),
  updatedAt: toDate(row.updated_at),
  disabledAt: toDateOrNull(row.disabled_at),
});

export async function createOidcClient(ctx: StoreContext, client: NewOidcClient): Promise<void> {
  await ctx.db
    .insertInto('oidc_clients')
    .values({
      id: client.id,
      name: client.name,
      redirect_uris: JSON.stringify(client.redirectUris),
      post_logout_redirect_uris: JSON.stringify(client.postLogoutRedirectUris),
      kind: client.kind,
      first_party: client.firstParty ? 1 : 0,
      two_factor_required: client.twoFactorRequired ? 1 : 0,
      scopes: client.scopes.join(' '),
      secret_hash: client.secretHash,
      created_at: client.createdAt.getTime(),
      updated_at: client.createdAt.getTime(),
      disabled_at: null,
    })
    .execute();
}

export async function findOidcClient(ctx: StoreContext, id: string): Promise<OidcClientRecord | undefined> {
  const row = await ctx.db.selectFrom('oidc_clients').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toClientRecord(row);
}

export async function listOidcClients(ctx: StoreContext): Promise<OidcClientRecord[]> {
  const rows = await ctx.db
    .selectFrom('oidc_clients')
    .selectAll()
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toClientRecord);
}

export async function updateOidcClient(
  ctx: StoreContext,
  id: string,
  changes: OidcClientChanges,
  at: Date,
): Promise<{ updated: boolean }> {
  const set: Partial<OidcClientsTable> = { updated_at: at.getTime() };
  if (changes.name !== undefined) set.name = changes.name;
  if (changes.redirectUris !== undefined) set.redirect_uris = JSON.stringify(changes.redirectUris);
  if (changes.postLogoutRedirectUris !== undefined)
    set.post_logout_redirect_uris = JSON.stringify(changes.postLogoutRedirectUris);
  if (changes.firstParty !== undefined) set.first_party = changes.firstParty ? 1 : 0;
  if (changes.twoFactorRequired !== undefined) set.two_factor_required = changes.twoFactorRequired ? 1 : 0;
  if (changes.scopes !== undefined) set.scopes = changes.scopes.join(' ');
  if (changes.secretHash !== undefined) set.secret_hash = changes.secretHash;
  if (changes.disabledAt !== undefined) set.disabled_at = changes.disabledAt?.getTime() ?? null;
  const result = await ctx.db.updateTable('oidc_clients').set(set).where('id', '=', id).executeTakeFirst();
  return { updated: changedExactlyOne(result) };
}

/** Deletes the application and its sign-in counters (a new application never inherits them). */
export async function deleteOidcClient(ctx: StoreContext, id: string): Promise<{ deleted: boolean }> {
  return ctx.atomic(async (db) => {
    const result = await db.deleteFrom('oidc_clients').where('id', '=', id).executeTakeFirst();
    await db.deleteFrom('oidc_sign_in_counts').where('client_id', '=', id).execute();
    return { deleted: result.numDeletedRows === 1n };
  });
}

export async function countOidcSignIn(
  ctx: StoreContext,
  clientId: string,
  userId: string,
  at: Date,
): Promise<void> {
  const bucketStart = at.getTime() - (at.getTime() % AUDIT_BUCKET_MS);
  // One statement: under concurrency the conflicting insert becomes an increment on either engine. The
  // row is the user's shard's (decision 0011): the transaction that issues the code holds its lock to
  // commit, and a row per application would make every user signing in to it wait for the others.
  await ctx.db
    .insertInto('oidc_sign_in_counts')
    .values({ client_id: clientId, bucket_start: bucketStart, shard: counterShardOf(userId), events: 1 })
    .onConflict((conflict) =>
      conflict
        .columns(['client_id', 'bucket_start', 'shard'])
        .doUpdateSet((eb) => ({ events: eb('oidc_sign_in_counts.events', '+', 1) })),
    )
    .execute();
}

export async function listOidcSignInCounts(
  ctx: StoreContext,
  query: { from: Date; to: Date },
): Promise<OidcSignInBucket[]> {
  const from = query.from.getTime() - (query.from.getTime() % AUDIT_BUCKET_MS);
  const to = query.to.getTime() - (query.to.getTime() % AUDIT_BUCKET_MS);
  // The sum over the shards, in one statement (one snapshot).
  const rows = await ctx.db
    .selectFrom('oidc_sign_in_counts')
    .select(['client_id', 'bucket_start'])
    .select((eb) => eb.fn.sum<number | string | bigint>('events').as('events'))
    .where('bucket_start', '>=', from)
    .where('bucket_start', '<', to)
    .groupBy(['client_id', 'bucket_start'])
    .orderBy('bucket_start')
    .orderBy('client_id')
    .execute();
  return rows.map((row) => ({
    clientId: row.client_id,
    bucketStart: toDate(Number(row.bucket_start)),
    events: Number(row.events),
  }));
}

export async function listOidcSigningKeys(ctx: StoreContext, at: Date): Promise<OidcSigningKeyRecord[]> {
  const rows = await ctx.db
    .selectFrom('oidc_signing_keys')
    .selectAll()
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at.getTime())]))
    // The current key (the one without an expiry) first, whatever its creation time says: two rotations
    // within one clock tick, or on instances whose clocks disagree, must not put a retired key first.
    .orderBy(sql`case when expires_at is null then 0 else 1 end`)
    .orderBy('created_at', 'desc')
    .orderBy('kid')
    .execute();
  return rows.map((row) => ({
    kid: row.kid,
    sealedJwk: row.sealed_jwk,
    createdAt: toDate(row.created_at),
    expiresAt: toDateOrNull(row.expires_at),
  }));
}

export async function addOidcSigningKey(
  ctx: StoreContext,
  key: NewOidcSigningKey,
  retireAt: Date,
): Promise<void> {
  await ctx.atomic(async (db) => {
    await db
      .updateTable('oidc_signing_keys')
      .set({ expires_at: retireAt.getTime() })
      .where('expires_at', 'is', null)
      .execute();
    await db
      .insertInto('oidc_signing_keys')
      .values({
        kid: key.kid,
        sealed_jwk: key.sealedJwk,
        created_at: key.createdAt.getTime(),
        expires_at: null,
      })
      .execute();
  });
}

export async function replaceSealedOidcSigningKey(
  ctx: StoreContext,
  kid: string,
  expected: string,
  next: string,
): Promise<{ replaced: boolean }> {
  // One conditional UPDATE, as for the TOTP seeds (factors.ts replaceSealedSecret).
  const result = await ctx.db
    .updateTable('oidc_signing_keys')
    .set({ sealed_jwk: next })
    .where('kid', '=', kid)
    .where('sealed_jwk', '=', expected)
    .executeTakeFirst();
  return { replaced: changedExactlyOne(result) };
}
