import type { NewRememberedDevice, RememberedDeviceRecord } from '../store.js';
import { type StoreContext, toDate, toDateOrNull } from './context.js';
import type { Database } from './database.js';

function toRecord(row: Database['remembered_devices']): RememberedDeviceRecord {
  return {
    id: row.id,
    userId: row.user_id,
    label: row.label,
    ip: row.ip,
    createdAt: toDate(Number(row.created_at)),
    lastUsedAt: toDateOrNull(row.last_used_at === null ? null : Number(row.last_used_at)),
    expiresAt: toDate(Number(row.expires_at)),
  };
}

export async function rememberDevice(ctx: StoreContext, device: NewRememberedDevice): Promise<void> {
  await ctx.db
    .insertInto('remembered_devices')
    .values({
      id: device.id,
      token_hash: device.tokenHash,
      user_id: device.userId,
      label: device.label,
      ip: device.ip,
      created_at: device.createdAt.getTime(),
      last_used_at: null,
      expires_at: device.expiresAt.getTime(),
    })
    .execute();
}

/** The unexpired device whose token hashes to `tokenHash`. */
export async function findRememberedDevice(
  ctx: StoreContext,
  tokenHash: string,
  at: Date,
): Promise<RememberedDeviceRecord | undefined> {
  const row = await ctx.db
    .selectFrom('remembered_devices')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('expires_at', '>', at.getTime())
    .executeTakeFirst();
  return row && toRecord(row);
}

export async function touchRememberedDevice(ctx: StoreContext, id: string, at: Date): Promise<void> {
  await ctx.db
    .updateTable('remembered_devices')
    .set({ last_used_at: at.getTime() })
    .where('id', '=', id)
    .execute();
}

export async function listRememberedDevices(
  ctx: StoreContext,
  userId: string,
  at: Date,
): Promise<RememberedDeviceRecord[]> {
  const rows = await ctx.db
    .selectFrom('remembered_devices')
    .selectAll()
    .where('user_id', '=', userId)
    .where('expires_at', '>', at.getTime())
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
  return rows.map(toRecord);
}

/** Forgets one device of the user's (`id` of another user's device forgets nothing); or all when `id` is null. */
export async function forgetRememberedDevices(
  ctx: StoreContext,
  userId: string,
  id: string | null,
): Promise<number> {
  const result = await ctx.db
    .deleteFrom('remembered_devices')
    .where('user_id', '=', userId)
    .$if(id !== null, (query) => query.where('id', '=', id as string))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
