import type { UsersWithCodesQuery, UserWithCodes } from '../../store/store.js';
import type { ServiceDeps } from '../deps.js';

export type { UsersWithCodesQuery, UserWithCodes };

/** The administrator's listing of users with their recovery-code counts, by email, in keyset pages. */
export function listUsersWithCodes(deps: ServiceDeps, query: UsersWithCodesQuery): Promise<UserWithCodes[]> {
  return deps.store.listUsersWithCodes(query);
}
