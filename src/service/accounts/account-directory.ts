import type { ServiceDeps } from '../deps.js';

/** An account as the operator's tools list it: who, with which roles, and how many recovery codes are left. */
export interface AccountListing {
  id: string;
  email: string | null;
  roles: string[];
  /** Null when the account has no recovery codes. */
  codes: { remaining: number; total: number } | null;
}

/** One page of accounts by email (after `afterEmail`), each with its recovery-code counts. */
export async function listAccounts(
  deps: Pick<ServiceDeps, 'store'>,
  query: { afterEmail?: string; limit: number },
): Promise<AccountListing[]> {
  const users = await deps.store.listUsers(query);
  return Promise.all(
    users.map(async (user) => {
      const summary = await deps.store.getRecoveryCodeSummary(user.id);
      return {
        id: user.id,
        email: user.email,
        roles: user.roles,
        codes: summary ? { remaining: summary.remaining, total: summary.total } : null,
      };
    }),
  );
}
