import type { UseCases } from '../../service/use-cases.js';
import type { Io } from '../command.js';

/**
 * How a command names the user it acts on: by the email of a SpareKey account (a positional argument), or
 * by the host application's own id (`--external-id 42`, the id the library's `users.ensure` and the JSON
 * API's `/external-users/{externalId}` take), for users a host created without an email.
 */
export const USER_TARGET_USAGE = '(<email> | --external-id <id>)';

export const USER_TARGET_OPTIONS = { 'external-id': { type: 'string' } } as const;

/** The user a command names, as its arguments say it; a string is the wrong-usage message (exit 2). */
export function userTargetProblem(args: {
  positionals: string[];
  values: Record<string, unknown>;
}): string | undefined {
  const externalId = args.values['external-id'];
  if (externalId !== undefined && args.positionals.length > 0)
    return 'Name the user by email or by --external-id, not both.';
  if (externalId === undefined && args.positionals.length === 0)
    return 'Name the user: an email address or --external-id <id>.';
  if (externalId === '') return '--external-id needs the id.';
  return undefined;
}

/** The named user's SpareKey id and how to name them in output; says so on standard error when nobody is. */
export async function findUserTarget(
  useCases: UseCases,
  args: { positionals: string[]; values: Record<string, unknown> },
  io: Io,
): Promise<{ id: string; label: string } | undefined> {
  const externalId = args.values['external-id'];
  if (typeof externalId === 'string') {
    const user = await useCases.findUserByExternalId(externalId);
    if (!user) io.err(`No user has the external id "${externalId}".`);
    return user && { id: user.id, label: `external id "${externalId}"` };
  }
  const email = args.positionals[0];
  const account = email ? await useCases.findUserByEmail(email) : undefined;
  if (!account) io.err(`No account has the email address ${email ?? '(none given)'}.`);
  return account && { id: account.id, label: account.email ?? email ?? account.id };
}
