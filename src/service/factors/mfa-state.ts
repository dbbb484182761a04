import type { FactorRecord, Store } from '../../store/store.js';

/** Two-factor is on when the user has at least one confirmed factor. */
export function hasConfirmedFactor(factors: readonly FactorRecord[]): boolean {
  return factors.some((factor) => factor.confirmedAt !== null);
}

export async function isMfaEnabled(store: Store, userId: string): Promise<boolean> {
  return hasConfirmedFactor(await store.listFactors(userId));
}
