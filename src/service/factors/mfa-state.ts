import type { FactorRecord, Store } from '../../store/store.js';
import type { ServiceDeps } from '../deps.js';

export type { FactorRecord };

/** Two-factor is on when the user has at least one confirmed factor. */
export function hasConfirmedFactor(factors: readonly FactorRecord[]): boolean {
  return factors.some((factor) => factor.confirmedAt !== null);
}

export async function isMfaEnabled(store: Store, userId: string): Promise<boolean> {
  return hasConfirmedFactor(await store.listFactors(userId));
}

/** Whether the user has two-factor on, for the edges (the navigation of a signed-in page). */
export function userHasMfa(deps: ServiceDeps, userId: string): Promise<boolean> {
  return isMfaEnabled(deps.store, userId);
}

/** The user's factors, confirmed or not, for the edges that offer a choice of them. */
export function listUserFactors(deps: ServiceDeps, userId: string): Promise<FactorRecord[]> {
  return deps.store.listFactors(userId);
}
