import { errorMessage } from '../core/errors.js';
import { createUser } from '../service/accounts/accounts.js';
import { createApiKey, revokeApiKey } from '../service/admin/api-keys.js';
import { resetUserMfa } from '../service/admin/reset-mfa.js';
import { assignRoles } from '../service/admin/roles.js';
import { getRecoveryCodeStatistics } from '../service/admin/statistics.js';
import { describeChainBreak, exportAuditEvents, verifyAuditChain } from '../service/audit/audit-log.js';
import type { ServiceDeps } from '../service/deps.js';
import { purgeExpiredRecords } from '../service/maintenance/purge.js';
import { getRecoveryCodeStatus } from '../service/recovery-codes/recovery-code-status.js';
import { migrations } from '../store/migrations/index.js';
import { CLI_CONTEXT, type Command, type Io } from './command.js';
import { oidcCommands } from './oidc-commands.js';
import { secretCommands } from './secret-commands.js';

async function userByEmail(deps: ServiceDeps, email: string | undefined, io: Io) {
  const user = email ? await deps.store.findUserByEmail(email) : undefined;
  if (!user) io.err(`No account has the email address ${email ?? '(none given)'}.`);
  return user;
}

/** Each command: one use case, printed for a person; exit 0 done, 1 refused or found a problem, 2 misuse. */
export const commands: Record<string, Command> = {
  migrate: {
    usage: 'sparekey migrate',
    summary: 'Bring the database to the latest schema (the server also does this at start).',
    run: async (_deps, _args, io) => {
      io.out(`The database is at the latest schema (${Object.keys(migrations).length} migrations).`);
      return 0;
    },
  },
  'user add': {
    usage: 'sparekey user add <email> [--role <role>]... < password-on-stdin',
    positionals: { min: 1, max: 1 },
    summary: 'Create an account; the password is read from standard input (never from the command line).',
    options: { role: { type: 'string', multiple: true } },
    run: async (deps, { positionals, values }, io) => {
      const password = (await io.stdin()).replace(/\r?\n$/, '');
      const roles = (values.role as string[] | undefined) ?? undefined;
      const created = await createUser(deps, {
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
    run: async (deps, { values }, io) => {
      const limit = Number(values.limit ?? 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
        io.err('--limit must be a whole number from 1 to 10000.');
        return 2;
      }
      const users = await deps.store.listUsers({ afterEmail: values.after as string | undefined, limit });
      for (const user of users) {
        const summary = await deps.store.getRecoveryCodeSummary(user.id);
        const codes = summary ? `${summary.remaining}/${summary.total} codes` : 'no codes';
        io.out(`${user.email}\t${user.roles.join(',') || '-'}\t${codes}`);
      }
      if (users.length === limit)
        io.err(`More: sparekey user list --after ${users[users.length - 1]?.email}`);
      return 0;
    },
  },
  'user roles': {
    usage: 'sparekey user roles <email> <role>...',
    summary: "Replace an account's roles (at least one: an account keeps a role).",
    positionals: { min: 2 },
    run: async (deps, { positionals }, io) => {
      const user = await userByEmail(deps, positionals[0], io);
      if (!user) return 1;
      const result = await assignRoles(deps, {
        userId: user.id,
        roles: positionals.slice(1),
        context: CLI_CONTEXT,
      });
      if (!result.ok) {
        io.err(errorMessage(result.error));
        return 1;
      }
      io.out(`${user.email}: ${result.value.roles.join(', ') || '(no roles)'}`);
      return 0;
    },
  },
  'mfa reset': {
    usage: 'sparekey mfa reset <email> --reason "<why>"',
    positionals: { min: 1, max: 1 },
    summary: "Remove all of an account's factors, recovery codes and sessions (after checking who asks).",
    options: { reason: { type: 'string' } },
    run: async (deps, { positionals, values }, io) => {
      const user = await userByEmail(deps, positionals[0], io);
      if (!user) return 1;
      const result = await resetUserMfa(deps, {
        userId: user.id,
        reason: String(values.reason ?? ''),
        context: CLI_CONTEXT,
      });
      if (!result.ok) {
        io.err(errorMessage(result.error));
        return 1;
      }
      io.out(
        `Reset ${user.email}: ${result.value.factorsRemoved} factors removed, ${result.value.sessionsEnded} sessions ended.`,
      );
      return 0;
    },
  },
  'codes status': {
    usage: 'sparekey codes status <email>',
    positionals: { min: 1, max: 1 },
    summary: 'How many recovery codes an account has left.',
    run: async (deps, { positionals }, io) => {
      const user = await userByEmail(deps, positionals[0], io);
      if (!user) return 1;
      const status = await getRecoveryCodeStatus(deps, { userId: user.id });
      io.out(
        status.hasCodes
          ? `${user.email}: ${status.remaining} of ${status.total} recovery codes left${status.low ? ' (low)' : ''}.`
          : `${user.email}: no recovery codes.`,
      );
      return 0;
    },
  },
  stats: {
    usage: 'sparekey stats',
    summary: 'The statistics of the admin dashboard.',
    run: async (deps, _args, io) => {
      const stats = await getRecoveryCodeStatistics(deps);
      io.out(
        [
          `Users with codes:       ${stats.usersWithCodes}`,
          `Low on codes (<= ${stats.lowThreshold}):    ${stats.lowOnCodes}`,
          `Used today:             ${stats.usedToday}`,
          `Used this month:        ${stats.usedThisMonth}`,
          `Failed attempts today:  ${stats.failedToday}`,
          ...stats.factorsByKind.map(
            (row) => `Users with ${row.kind} factors: ${row.users} (${row.factors} factors)`,
          ),
          `(time zone ${stats.timeZone})`,
        ].join('\n'),
      );
      return 0;
    },
  },
  purge: {
    usage: 'sparekey purge',
    summary:
      'Delete expired sessions, links, emailed codes, security-key challenges, remembered browsers, idle throttle counters, old webhook deliveries and expired OpenID Connect codes, tokens and retired signing keys (a running server does this hourly).',
    run: async (deps, _args, io) => {
      const purged = await purgeExpiredRecords(deps);
      io.out(
        [
          `Expired sessions:              ${purged.sessions}`,
          `Expired links:                 ${purged.actionTokens}`,
          `Expired remembered browsers:   ${purged.rememberedDevices}`,
          `Expired emailed codes:         ${purged.emailCodes}`,
          `Expired security-key challenges: ${purged.webauthnChallenges}`,
          `Idle throttle counters:        ${purged.throttleCounters}`,
          `Reports of ended locks:        ${purged.lockReports}`,
          `Webhook deliveries (30+ days): ${purged.webhookDeliveries}`,
          `Expired sign-in app tokens:    ${purged.oidcModels}`,
          `Retired signing keys:          ${purged.oidcSigningKeys}`,
        ].join('\n'),
      );
      return 0;
    },
  },
  'audit export': {
    usage: 'sparekey audit export --format csv|jsonl [--since <ISO date>] [--until <ISO date>] > file',
    summary: 'Write the audit log to standard output, oldest first; progress goes to standard error.',
    options: { format: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' } },
    run: async (deps, { values }, io) => {
      const format = values.format;
      const since = values.since ? new Date(String(values.since)) : undefined;
      const until = values.until ? new Date(String(values.until)) : undefined;
      if (
        (format !== 'csv' && format !== 'jsonl') ||
        Number.isNaN(since?.getTime()) ||
        Number.isNaN(until?.getTime())
      ) {
        io.err('Give --format csv or --format jsonl, and dates like 2026-11-01 for --since / --until.');
        return 2;
      }
      let lines = 0;
      for await (const chunk of exportAuditEvents(deps.store, format, { since, until })) {
        io.out(chunk.replace(/\r?\n$/, ''));
        lines += chunk.split('\n').length - 1;
        if (lines % 100_000 < 500) io.err(`exported ${lines} lines…`);
      }
      io.err(`done: ${lines} lines.`);
      return 0;
    },
  },
  'audit verify': {
    usage: 'sparekey audit verify',
    summary:
      "Seal what is committed, then check the audit log's hash chain; exit 1 and name the first broken event if it is not intact.",
    run: async (deps, _args, io) => {
      const result = await verifyAuditChain(deps.store);
      // Only when the running sealer could not catch up in time: say so rather than count them as checked.
      const unsealed =
        result.unsealed > 0 ? ` ${result.unsealed} events committed since are not sealed yet.` : '';
      if (result.ok) {
        io.out(`The audit chain verifies: ${result.checked} events, none altered or missing.${unsealed}`);
        return 0;
      }
      io.out(
        `The audit chain is broken. ${describeChainBreak(result.firstBreak as NonNullable<typeof result.firstBreak>)}`,
      );
      io.out(`${result.checked} events before it verified.`);
      return 1;
    },
  },
  'apikey create': {
    usage: 'sparekey apikey create --name <name> --scope <scope>...',
    summary: 'Create an API key for a backend; the key is printed once.',
    options: { name: { type: 'string' }, scope: { type: 'string', multiple: true } },
    run: async (deps, { values }, io) => {
      const created = await createApiKey(deps, {
        name: String(values.name ?? ''),
        scopes: (values.scope as string[] | undefined) ?? [],
        context: CLI_CONTEXT,
      });
      if (!created.ok) {
        io.err(errorMessage(created.error));
        return 1;
      }
      io.out(created.value.key);
      io.err(
        `Created key ${created.value.id} with ${created.value.scopes.join(' ')}. Store it now: it is not shown again.`,
      );
      return 0;
    },
  },
  'apikey revoke': {
    usage: 'sparekey apikey revoke <id>',
    positionals: { min: 1, max: 1 },
    summary: 'Revoke an API key at once.',
    run: async (deps, { positionals }, io) => {
      const revoked = await revokeApiKey(deps, { id: positionals[0] ?? '', context: CLI_CONTEXT });
      if (!revoked.ok) {
        io.err(errorMessage(revoked.error));
        return 1;
      }
      io.out(`Revoked ${revoked.value.id}.`);
      return 0;
    },
  },
  ...secretCommands,
  ...oidcCommands,
};
