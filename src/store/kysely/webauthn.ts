import type {
  NewWebauthnChallenge,
  NewWebauthnCredential,
  Store,
  WebauthnCeremony,
  WebauthnCredentialRecord,
  WebauthnDeviceType,
  WriteOutcome,
} from '../store.js';
import { changedExactlyOne, type StoreContext, toDate, toDateOrNull } from './context.js';
import type { WebauthnCredentialsTable } from './database.js';

export async function createWebauthnCredential(
  ctx: StoreContext,
  credential: NewWebauthnCredential,
): ReturnType<Store['createWebauthnCredential']> {
  // ON CONFLICT DO NOTHING rather than catching the unique violation, so a caller's transaction can go on
  // (see users.createUser): of two concurrent registrations of one credential id exactly one inserts.
  const inserted = await ctx.db
    .insertInto('webauthn_credentials')
    .values({
      id: credential.id,
      user_id: credential.userId,
      credential_id: credential.credentialId,
      public_key: credential.publicKey,
      counter: credential.counter,
      transports: JSON.stringify(credential.transports),
      device_type: credential.deviceType,
      backed_up: credential.backedUp ? 1 : 0,
      name: credential.name,
      created_at: credential.createdAt.getTime(),
    })
    .onConflict((conflict) => conflict.column('credential_id').doNothing())
    .executeTakeFirst();
  return inserted.numInsertedOrUpdatedRows === 1n
    ? { created: true }
    : { created: false, reason: 'credential_taken' };
}

export async function listWebauthnCredentials(
  ctx: StoreContext,
  userId: string,
): Promise<WebauthnCredentialRecord[]> {
  const rows = await ctx.db
    .selectFrom('webauthn_credentials')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toCredentialRecord);
}

export async function findWebauthnCredential(
  ctx: StoreContext,
  credentialId: string,
): Promise<WebauthnCredentialRecord | undefined> {
  const row = await ctx.db
    .selectFrom('webauthn_credentials')
    .selectAll()
    .where('credential_id', '=', credentialId)
    .executeTakeFirst();
  return row && toCredentialRecord(row);
}

export async function recordWebauthnUse(
  ctx: StoreContext,
  id: string,
  use: { counter: number; backedUp: boolean; at: Date },
): Promise<{ recorded: boolean }> {
  // One conditional UPDATE: under PostgreSQL READ COMMITTED a concurrent use with the same counter waits
  // on the row lock, re-evaluates the condition against the winner's row and changes nothing; SQLite runs
  // statements one at a time. An authenticator without a counter reports 0 every time (6.1.1): allowed
  // while the stored counter is 0 too.
  const result = await ctx.db
    .updateTable('webauthn_credentials')
    .set({ counter: use.counter, backed_up: use.backedUp ? 1 : 0, last_used_at: use.at.getTime() })
    .where('id', '=', id)
    .where((eb) => (use.counter === 0 ? eb('counter', '=', 0) : eb('counter', '<', use.counter)))
    .executeTakeFirst();
  return { recorded: changedExactlyOne(result) };
}

export async function renameWebauthnCredential(
  ctx: StoreContext,
  userId: string,
  id: string,
  name: string,
): Promise<{ renamed: boolean }> {
  const result = await ctx.db
    .updateTable('webauthn_credentials')
    .set({ name })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return { renamed: changedExactlyOne(result) };
}

export async function createWebauthnChallenge(
  ctx: StoreContext,
  challenge: NewWebauthnChallenge,
): Promise<void> {
  await ctx.db
    .insertInto('webauthn_challenges')
    .values({
      challenge: challenge.challenge,
      ceremony: challenge.ceremony,
      binding_hash: challenge.bindingHash,
      user_id: challenge.userId,
      created_at: challenge.createdAt.getTime(),
      expires_at: challenge.expiresAt.getTime(),
    })
    .execute();
}

export async function consumeWebauthnChallenge(
  ctx: StoreContext,
  input: { challenge: string; ceremony: WebauthnCeremony; bindingHash: string; at: Date },
): Promise<WriteOutcome<'consumed', never, { userId: string | null }>> {
  return ctx.atomic(async (db) => {
    // Single use like the recovery codes: `used_at IS NULL` in the UPDATE itself, then exactly one row
    // changed. PostgreSQL makes a concurrent spender wait on the row lock and re-check the condition
    // against the committed winner; SQLite serializes writers.
    const result = await db
      .updateTable('webauthn_challenges')
      .set({ used_at: input.at.getTime() })
      .where('challenge', '=', input.challenge)
      .where('ceremony', '=', input.ceremony)
      .where('binding_hash', '=', input.bindingHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', input.at.getTime())
      .executeTakeFirst();
    if (!changedExactlyOne(result)) return { consumed: false };
    const row = await db
      .selectFrom('webauthn_challenges')
      .select('user_id')
      .where('challenge', '=', input.challenge)
      .executeTakeFirstOrThrow();
    return { consumed: true, userId: row.user_id };
  });
}

function toCredentialRecord(row: WebauthnCredentialsTable): WebauthnCredentialRecord {
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    counter: Number(row.counter),
    transports: JSON.parse(row.transports) as string[],
    deviceType: row.device_type as WebauthnDeviceType,
    backedUp: row.backed_up === 1,
    name: row.name,
    createdAt: toDate(row.created_at),
    lastUsedAt: toDateOrNull(row.last_used_at),
  };
}
