import type { Kysely } from 'kysely';
import { expect } from 'vitest';
import type { Database } from '../kysely/database.js';
import type { NewRecoveryCodeSet, Store } from '../store.js';

/**
 * After racing replacements: the user has exactly one set, it is one of the candidates, it is complete
 * (total = remaining = its code count, every code present and unused), and no losing candidate left a
 * code behind. Reads the tables directly, since a broken store could hide a duplicate behind its API.
 */
export async function expectOneCompleteSet(
  db: Kysely<Database>,
  store: Store,
  userId: string,
  candidates: readonly NewRecoveryCodeSet[],
): Promise<void> {
  const sets = await db.selectFrom('recovery_code_sets').select('id').where('user_id', '=', userId).execute();
  expect(sets).toHaveLength(1);
  const winner = candidates.find((candidate) => candidate.id === sets[0]!.id);
  expect(winner).toBeDefined();
  const size = winner!.codes.length;
  expect(await store.getRecoveryCodeSummary(userId)).toMatchObject({
    setId: winner!.id,
    total: size,
    remaining: size,
  });
  const codes = await db
    .selectFrom('recovery_codes')
    .select(['set_id', 'slot', 'digest', 'used_at'])
    .where(
      'set_id',
      'in',
      candidates.map((candidate) => candidate.id),
    )
    .orderBy('slot')
    .execute();
  expect(codes).toEqual(winner!.codes.map((code) => ({ set_id: winner!.id, ...code, used_at: null })));
}
