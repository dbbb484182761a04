import type { ApiKeyRecord, NewApiKey } from '../store.js';
import { compiledOnce } from './compiled-once.js';
import { type StoreContext, toDate, toDateOrNull } from './context.js';
import type { ApiKeysTable } from './database.js';

const toRecord = (row: ApiKeysTable): ApiKeyRecord => ({
  id: row.id,
  name: row.name,
  secretHash: row.secret_hash,
  scopes: row.scopes.split(' ').filter(Boolean),
  createdAt: toDate(row.created_at),
  createdBy: row.created_by,
  revokedAt: toDateOrNull(row.revoked_at),
  lastUsedAt: toDateOrNull(row.last_used_at),
});

export async function createApiKey(ctx: StoreContext, key: NewApiKey): Promise<void> {
  await ctx.db
    .insertInto('api_keys')
    .values({
      id: key.id,
      name: key.name,
      secret_hash: key.secretHash,
      scopes: key.scopes.join(' '),
      created_at: key.createdAt.getTime(),
      created_by: key.createdBy,
    })
    .execute();
}

/**
 * Every API-key call reads its key: compiled once (compiled-once.ts), its columns named so PostgreSQL runs
 * it as a prepared statement.
 */
const apiKeyById = compiledOnce(
  'findApiKey',
  (db) =>
    db
      .selectFrom('api_keys')
      .select([
        'id',
        'name',
        'secret_hash',
        'scopes',
        'created_at',
        'created_by',
        'revoked_at',
        'last_used_at',
      ])
      .where('id', '=', ''),
  1,
);

export async function findApiKey(ctx: StoreContext, id: string): Promise<ApiKeyRecord | undefined> {
  const row = (await apiKeyById(ctx.db, [id])).rows[0];
  return row && toRecord(row);
}

export async function listApiKeys(ctx: StoreContext): Promise<ApiKeyRecord[]> {
  const rows = await ctx.db.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc').execute();
  return rows.map(toRecord);
}

export async function revokeApiKey(ctx: StoreContext, id: string, at: Date): Promise<{ revoked: boolean }> {
  const result = await ctx.db
    .updateTable('api_keys')
    .set({ revoked_at: at.getTime() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return { revoked: result.numUpdatedRows === 1n };
}

export async function touchApiKey(ctx: StoreContext, id: string, at: Date): Promise<void> {
  await ctx.db.updateTable('api_keys').set({ last_used_at: at.getTime() }).where('id', '=', id).execute();
}
