import { compiledOnce } from './compiled-once.js';
import type { StoreContext } from './context.js';

/**
 * Compiled once per database handle (compiled-once.ts): forward auth reads two settings for every verdict
 * (the console's access rules, the recovery-code settings). The key is its only parameter.
 */
const settingValue = compiledOnce(
  'getSetting',
  (db) => db.selectFrom('settings').select('value').where('key', '=', ''),
  1,
);

export async function getSetting(ctx: StoreContext, key: string): Promise<unknown | undefined> {
  const row = (await settingValue(ctx.db, [key])).rows[0];
  return row === undefined ? undefined : JSON.parse(row.value);
}

export async function putSetting(ctx: StoreContext, key: string, value: unknown, at: Date): Promise<void> {
  const json = JSON.stringify(value);
  // JSON.stringify(undefined) is undefined: storing "nothing" is a programmer error, not a value.
  if (json === undefined) throw new TypeError(`putSetting(${key}): value is not representable as JSON`);
  // An upsert is one statement, so concurrent writers of a key never fail on the primary key; the last
  // to commit wins, which is what "put" means.
  await ctx.db
    .insertInto('settings')
    .values({ key, value: json, updated_at: at.getTime() })
    .onConflict((conflict) => conflict.column('key').doUpdateSet({ value: json, updated_at: at.getTime() }))
    .execute();
}

export async function claimSetting(
  ctx: StoreContext,
  key: string,
  value: unknown,
  at: Date,
): Promise<{ claimed: boolean }> {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError(`claimSetting(${key}): value is not representable as JSON`);
  // DO NOTHING rather than catching the violation: a failed statement would abort a PostgreSQL transaction.
  const inserted = await ctx.db
    .insertInto('settings')
    .values({ key, value: json, updated_at: at.getTime() })
    .onConflict((conflict) => conflict.column('key').doNothing())
    .executeTakeFirst();
  return { claimed: inserted.numInsertedOrUpdatedRows === 1n };
}
