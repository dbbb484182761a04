import { errorMessage } from '../../core/errors.js';
import { CLI_CONTEXT, type Command } from '../command.js';
import { findUserTarget, USER_TARGET_OPTIONS, USER_TARGET_USAGE, userTargetProblem } from './user-target.js';

/**
 * Accounts: create one (password on standard input), list them, replace an account's roles; change a
 * user's email or delete a user (erasure), by email or by the host application's id (--external-id).
 */
export const userCommands: Record<string, Command> = {
  'user add': {
    usage: 'sparekey user add <email> [--role <role>]... < password-on-stdin',
    positionals: { min: 1, max: 1 },
    summary: 'Create an account; the password is read from standard input (never from the command line).',
    options: { role: { type: 'string', multiple: true } },
    run: async (useCases, { positionals, values }, io) => {
      const password = (await io.stdin()).replace(/\r?\n$/, '');
      const roles = (values.role as string[] | undefined) ?? undefined;
      const created = await useCases.createUser({
        email: positionals[0] ?? '',
        password,
        roles,
        context: CLI_CONTEXT,
      });
      if (!created.ok) {
        io.err(errorMessage(created.error));
        return 1;
      }
      io.out(`Created ${positionals[0]} (id ${created.value.userId}).`);
      return 0;
    },
  },
  'user list': {
    usage: 'sparekey user list [--after <email>] [--limit <n>]',
    summary: 'Accounts by email, with roles and recovery codes left (page with --after).',
    options: { after: { type: 'string' }, limit: { type: 'string' } },
    run: async (useCases, { values }, io) => {
      const limit = Number(values.limit ?? 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
        io.err('--limit must be a whole number from 1 to 10000.');
        return 2;
      }
      const accounts = await useCases.listAccounts({ afterEmail: values.after as string | undefined, limit });
      for (const account of accounts) {
        const codes = account.codes ? `${account.codes.remaining}/${account.codes.total} codes` : 'no codes';
        io.out(`${account.email}\t${account.roles.join(',') || '-'}\t${codes}`);
      }
      if (accounts.length === limit)
        io.err(`More: sparekey user list --after ${accounts[accounts.length - 1]?.email}`);
      return 0;
    },
  },
  'user roles': {
    usage: `sparekey user roles ${USER_TARGET_USAGE} <role>...`,
    summary: "Replace a user's roles (at least one: an account keeps a role).",
    positionals: { min: 1 },
    options: USER_TARGET_OPTIONS,
    usageProblem: rolesUsageProblem,
    run: async (useCases, args, io) => {
      const user = await findUserTarget(useCases, args, io);
      if (!user) return 1;
      const result = await useCases.assignRoles({
        userId: user.id,
        roles: rolesOf(args),
        context: CLI_CONTEXT,
      });
      if (!result.ok) {
        io.err(errorMessage(result.error));
        return 1;
      }
      io.out(`${user.label}: ${result.value.roles.join(', ') || '(no roles)'}`);
      return 0;
    },
  },
  'user email': {
    usage: `sparekey user email ${USER_TARGET_USAGE} (--to <address> | --remove)`,
    positionals: { min: 0, max: 1 },
    summary: "Set or remove a user's email address (for security notices); the old address is told.",
    options: { ...USER_TARGET_OPTIONS, to: { type: 'string' }, remove: { type: 'boolean' } },
    usageProblem: (args) =>
      userTargetProblem(args) ??
      ((args.values.to === undefined) === (args.values.remove === undefined)
        ? 'Give the new address with --to, or --remove to remove it (one of the two).'
        : undefined),
    run: async (useCases, args, io) => {
      const user = await findUserTarget(useCases, args, io);
      if (!user) return 1;
      const email = args.values.remove ? null : String(args.values.to);
      const result = await useCases.changeEmail({ userId: user.id, email, context: CLI_CONTEXT });
      if (!result.ok) {
        io.err(errorMessage(result.error));
        return 1;
      }
      io.out(`${user.label}: email ${result.value.email ?? 'removed'}.`);
      return 0;
    },
  },
  'user delete': {
    usage: `sparekey user delete ${USER_TARGET_USAGE}`,
    positionals: { min: 0, max: 1 },
    summary:
      'Delete a user with their factors, recovery codes, sessions, remembered browsers and API keys (erasure); the audit log keeps the events under their random id.',
    options: USER_TARGET_OPTIONS,
    usageProblem: userTargetProblem,
    run: async (useCases, args, io) => {
      const user = await findUserTarget(useCases, args, io);
      if (!user) return 1;
      const result = await useCases.deleteUser({ userId: user.id, context: CLI_CONTEXT });
      if (!result.ok) {
        io.err(errorMessage(result.error));
        return 1;
      }
      const removed = result.value;
      io.out(
        `Deleted ${user.label}: ${removed.factors} factors, ${removed.recoveryCodeSets} recovery-code sets, ${removed.sessions} sessions, ${removed.rememberedDevices} remembered browsers, ${removed.apiKeys} API keys.`,
      );
      return 0;
    },
  },
};

/** The roles `user roles` names: every positional after the email, or every one with --external-id. */
function rolesOf(args: { positionals: string[]; values: Record<string, unknown> }): string[] {
  return args.values['external-id'] === undefined ? args.positionals.slice(1) : args.positionals;
}

/**
 * `user roles` names its user like the other by-user commands, then at least one role: none would mean
 * "remove every role", which is refused as wrong usage. A role name never has an "@" (ROLE_NAME), so an
 * address beside --external-id is a user named twice, not a role.
 */
function rolesUsageProblem(args: { positionals: string[]; values: Record<string, unknown> }) {
  const externalId = args.values['external-id'];
  if (externalId !== undefined && args.positionals.some((value) => value.includes('@')))
    return 'Name the user by email or by --external-id, not both.';
  if (externalId === '') return '--external-id needs the id.';
  if (rolesOf(args).length === 0) return 'Give at least one role: an account keeps a role.';
  return undefined;
}
