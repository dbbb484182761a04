import { errorMessage } from '../../core/errors.js';
import { CLI_CONTEXT, type Command } from '../command.js';
import { accountByEmail } from './account-by-email.js';

/** An account's second factors: reset them all (support, after checking who asks), or count the codes left. */
export const mfaCommands: Record<string, Command> = {
  'mfa reset': {
    usage: 'sparekey mfa reset <email> --reason "<why>"',
    positionals: { min: 1, max: 1 },
    summary: "Remove all of an account's factors, recovery codes and sessions (after checking who asks).",
    options: { reason: { type: 'string' } },
    run: async (useCases, { positionals, values }, io) => {
      const account = await accountByEmail(useCases, positionals[0], io);
      if (!account) return 1;
      const result = await useCases.resetUserMfa({
        userId: account.id,
        reason: String(values.reason ?? ''),
        context: CLI_CONTEXT,
      });
      if (!result.ok) {
        io.err(errorMessage(result.error));
        return 1;
      }
      io.out(
        `Reset ${account.email}: ${result.value.factorsRemoved} factors removed, ${result.value.sessionsEnded} sessions ended.`,
      );
      return 0;
    },
  },
  'codes status': {
    usage: 'sparekey codes status <email>',
    positionals: { min: 1, max: 1 },
    summary: 'How many recovery codes an account has left.',
    run: async (useCases, { positionals }, io) => {
      const account = await accountByEmail(useCases, positionals[0], io);
      if (!account) return 1;
      const status = await useCases.getRecoveryCodeStatus({ userId: account.id });
      io.out(
        status.hasCodes
          ? `${account.email}: ${status.remaining} of ${status.total} recovery codes left${status.low ? ' (low)' : ''}.`
          : `${account.email}: no recovery codes.`,
      );
      return 0;
    },
  },
};
