import { errorMessage } from '../../core/errors.js';
import { CLI_CONTEXT, type Command } from '../command.js';
import { findUserTarget, USER_TARGET_OPTIONS, USER_TARGET_USAGE, userTargetProblem } from './user-target.js';

/**
 * A user's second factors: their status, a reset (support, after checking who asks), and the codes left.
 * Each names the user by email or by the host application's id (--external-id).
 */
export const mfaCommands: Record<string, Command> = {
  'mfa status': {
    usage: `sparekey mfa status ${USER_TARGET_USAGE}`,
    positionals: { min: 0, max: 1 },
    summary: "A user's confirmed second factors and recovery codes left.",
    options: USER_TARGET_OPTIONS,
    usageProblem: userTargetProblem,
    run: async (useCases, args, io) => {
      const user = await findUserTarget(useCases, args, io);
      if (!user) return 1;
      const overview = await useCases.getMfaOverview({ userId: user.id });
      const factors = overview.factors.map((factor) => factor.kind).join(', ') || 'none';
      io.out(`${user.label}: two-factor ${overview.mfaEnabled ? 'on' : 'off'}; factors: ${factors}.`);
      io.out(`${user.label}: ${codesLeft(overview.recoveryCodes)}`);
      return 0;
    },
  },
  'mfa reset': {
    usage: `sparekey mfa reset ${USER_TARGET_USAGE} --reason "<why>"`,
    positionals: { min: 0, max: 1 },
    summary: "Remove all of a user's factors, recovery codes and sessions (after checking who asks).",
    options: { ...USER_TARGET_OPTIONS, reason: { type: 'string' } },
    usageProblem: userTargetProblem,
    run: async (useCases, args, io) => {
      const user = await findUserTarget(useCases, args, io);
      if (!user) return 1;
      const result = await useCases.resetUserMfa({
        userId: user.id,
        reason: String(args.values.reason ?? ''),
        context: CLI_CONTEXT,
      });
      if (!result.ok) {
        io.err(errorMessage(result.error));
        return 1;
      }
      io.out(
        `Reset ${user.label}: ${result.value.factorsRemoved} factors removed, ${result.value.sessionsEnded} sessions ended.`,
      );
      return 0;
    },
  },
  'codes status': {
    usage: `sparekey codes status ${USER_TARGET_USAGE}`,
    positionals: { min: 0, max: 1 },
    summary: 'How many recovery codes a user has left (never the codes).',
    options: USER_TARGET_OPTIONS,
    usageProblem: userTargetProblem,
    run: async (useCases, args, io) => {
      const user = await findUserTarget(useCases, args, io);
      if (!user) return 1;
      const status = await useCases.getRecoveryCodeStatus({ userId: user.id });
      io.out(`${user.label}: ${codesLeft(status)}`);
      return 0;
    },
  },
};

function codesLeft(status: { hasCodes: boolean; remaining?: number; total?: number; low?: boolean }): string {
  return status.hasCodes
    ? `${status.remaining} of ${status.total} recovery codes left${status.low ? ' (low)' : ''}.`
    : 'no recovery codes.';
}
