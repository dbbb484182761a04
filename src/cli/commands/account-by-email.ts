import { findUserByEmail } from '../../service/accounts/user-lookup.js';
import type { ServiceDeps } from '../../service/deps.js';
import type { Io } from '../command.js';

/** The account a command names by email; says so on standard error when there is none. */
export async function accountByEmail(deps: ServiceDeps, email: string | undefined, io: Io) {
  const account = email ? await findUserByEmail(deps, email) : undefined;
  if (!account) io.err(`No account has the email address ${email ?? '(none given)'}.`);
  return account;
}
