import type { UseCases } from '../../service/use-cases.js';
import type { Io } from '../command.js';

/** The account a command names by email; says so on standard error when there is none. */
export async function accountByEmail(useCases: UseCases, email: string | undefined, io: Io) {
  const account = email ? await useCases.findUserByEmail(email) : undefined;
  if (!account) io.err(`No account has the email address ${email ?? '(none given)'}.`);
  return account;
}
