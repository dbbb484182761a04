import type { UserRecord } from '../../store/store.js';
import type { ServiceDeps } from '../deps.js';

export type { UserRecord };

/**
 * Reads of one account for the edges (an administrator's pages and API, the library's `users.find*`):
 * undefined when nobody has that id, email address or host id.
 */
export function findUserById(deps: ServiceDeps, userId: string): Promise<UserRecord | undefined> {
  return deps.store.findUserById(userId);
}

export function findUserByEmail(deps: ServiceDeps, email: string): Promise<UserRecord | undefined> {
  return deps.store.findUserByEmail(email);
}

export function findUserByExternalId(deps: ServiceDeps, externalId: string): Promise<UserRecord | undefined> {
  return deps.store.findUserByExternalId(externalId);
}
