import type { UserRecord } from '../../store/store.js';

/**
 * How an account is named to people (pages, authenticator apps, listings): its email address, or for a
 * host application's user without one, the host's id.
 */
export function accountLabel(user: Pick<UserRecord, 'id' | 'email' | 'externalId'>): string {
  return user.email ?? user.externalId ?? user.id;
}
