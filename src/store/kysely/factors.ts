import type {
  FactorKind,
  FactorRecord,
  NewFactor,
  SealedSecretRecord,
  SecretFactorKind,
  SecretFactorRecord,
} from '../store.js';
import { changedExactlyOne, type StoreContext, toDate, toDateOrNull } from './context.js';
import type { MfaFactorsTable } from './database.js';

export async function createFactor(ctx: StoreContext, factor: NewFactor): Promise<void> {
  await ctx.db
    .insertInto('mfa_factors')
    .values({
      id: factor.id,
      user_id: factor.userId,
      kind: factor.kind,
      secret_ciphertext: factor.secretCiphertext,
      created_at: factor.createdAt.getTime(),
    })
    .execute();
}

export async function findFactor(
  ctx: StoreContext,
  userId: string,
  factorId: string,
): Promise<SecretFactorRecord | undefined> {
  const row = await ctx.db
    .selectFrom('mfa_factors')
    .selectAll()
    .where('id', '=', factorId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row && toFactorRecord(row);
}

export async function listFactors(ctx: StoreContext, userId: string): Promise<FactorRecord[]> {
  const rows = await ctx.db
    .selectFrom('mfa_factors')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const keys = await ctx.db
    .selectFrom('webauthn_credentials')
    .select(['id', 'user_id', 'created_at', 'last_used_at'])
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  // A security key is registered and confirmed in one step (its public key is the proof it exists).
  const keyFactors = keys.map(
    (key): FactorRecord => ({
      id: key.id,
      userId: key.user_id,
      kind: 'webauthn',
      secretCiphertext: null,
      createdAt: toDate(key.created_at),
      confirmedAt: toDate(key.created_at),
      lastUsedStep: null,
      lastUsedAt: toDateOrNull(key.last_used_at),
    }),
  );
  return [...rows.map(toFactorRecord), ...keyFactors];
}

export async function countFactorsByKind(
  ctx: StoreContext,
): Promise<{ kind: FactorKind; factors: number; users: number }[]> {
  const factors = await ctx.db
    .selectFrom('mfa_factors')
    .select((eb) => [
      'kind',
      eb.fn.countAll<string>().as('factors'),
      eb.fn.count<string>('user_id').distinct().as('users'),
    ])
    .where('confirmed_at', 'is not', null)
    .groupBy('kind')
    .execute();
  const keys = await ctx.db
    .selectFrom('webauthn_credentials')
    .select((eb) => [
      eb.fn.countAll<string>().as('factors'),
      eb.fn.count<string>('user_id').distinct().as('users'),
    ])
    .executeTakeFirstOrThrow();
  const counts = new Map<FactorKind, { factors: number; users: number }>(
    factors.map((row) => [
      row.kind as FactorKind,
      { factors: Number(row.factors), users: Number(row.users) },
    ]),
  );
  counts.set('webauthn', { factors: Number(keys.factors), users: Number(keys.users) });
  return (['totp', 'email', 'webauthn'] as const).map((kind) => ({
    kind,
    ...(counts.get(kind) ?? { factors: 0, users: 0 }),
  }));
}

export async function confirmFactor(
  ctx: StoreContext,
  userId: string,
  factorId: string,
  at: Date,
): Promise<{ confirmed: boolean }> {
  // Conditional on `confirmed_at IS NULL`: of two concurrent confirmations only the first changes the
  // row (PostgreSQL re-evaluates the condition after waiting on the row lock), so only one reports it.
  const result = await ctx.db
    .updateTable('mfa_factors')
    .set({ confirmed_at: at.getTime() })
    .where('id', '=', factorId)
    .where('user_id', '=', userId)
    .where('confirmed_at', 'is', null)
    .executeTakeFirst();
  return { confirmed: changedExactlyOne(result) };
}

export async function deleteFactor(
  ctx: StoreContext,
  userId: string,
  factorId: string,
): Promise<{ removed: boolean }> {
  return ctx.atomic(async (db) => {
    const factor = await db
      .deleteFrom('mfa_factors')
      .where('id', '=', factorId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    const key = await db
      .deleteFrom('webauthn_credentials')
      .where('id', '=', factorId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return { removed: factor.numDeletedRows + key.numDeletedRows === 1n };
  });
}

export async function deleteAllFactors(ctx: StoreContext, userId: string): Promise<number> {
  return ctx.atomic(async (db) => {
    const factors = await db.deleteFrom('mfa_factors').where('user_id', '=', userId).executeTakeFirst();
    const keys = await db.deleteFrom('webauthn_credentials').where('user_id', '=', userId).executeTakeFirst();
    return Number(factors.numDeletedRows + keys.numDeletedRows);
  });
}

export async function recordTotpStep(
  ctx: StoreContext,
  factorId: string,
  step: number,
  at: Date,
): Promise<{ recorded: boolean }> {
  // RFC 6238 5.2: a step is accepted at most once. One conditional UPDATE: under PostgreSQL READ
  // COMMITTED a concurrent caller with the same step waits on the row lock, re-evaluates
  // `last_used_step < step` against the winner's committed row and changes nothing; SQLite runs
  // statements one at a time. A pending (unconfirmed) factor never records a step.
  const result = await ctx.db
    .updateTable('mfa_factors')
    .set({ last_used_step: step, last_used_at: at.getTime() })
    .where('id', '=', factorId)
    .where('confirmed_at', 'is not', null)
    .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
    .executeTakeFirst();
  return { recorded: changedExactlyOne(result) };
}

function toFactorRecord(row: MfaFactorsTable): SecretFactorRecord {
  return {
    id: row.id,
    userId: row.user_id,
    kind: row.kind as SecretFactorKind,
    secretCiphertext: row.secret_ciphertext,
    createdAt: toDate(row.created_at),
    confirmedAt: toDateOrNull(row.confirmed_at),
    lastUsedStep: row.last_used_step,
    lastUsedAt: toDateOrNull(row.last_used_at),
  };
}

export async function listSealedSecrets(
  ctx: StoreContext,
  afterId: string | null,
  limit: number,
): Promise<SealedSecretRecord[]> {
  let query = ctx.db
    .selectFrom('mfa_factors')
    .select(['id', 'secret_ciphertext'])
    .where('secret_ciphertext', 'is not', null)
    .orderBy('id')
    .limit(limit);
  if (afterId !== null) query = query.where('id', '>', afterId);
  const rows = await query.execute();
  return rows.map((row) => ({ factorId: row.id, secretCiphertext: row.secret_ciphertext ?? '' }));
}

export async function replaceSealedSecret(
  ctx: StoreContext,
  factorId: string,
  expected: string,
  next: string,
): Promise<{ replaced: boolean }> {
  // Compare-and-set: one conditional UPDATE, so a concurrent re-enrolment or second rotation is never undone.
  const result = await ctx.db
    .updateTable('mfa_factors')
    .set({ secret_ciphertext: next })
    .where('id', '=', factorId)
    .where('secret_ciphertext', '=', expected)
    .executeTakeFirst();
  return { replaced: changedExactlyOne(result) };
}
