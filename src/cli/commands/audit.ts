import { describeChainBreak } from '../../service/audit/audit-log.js';
import type { Command } from '../command.js';

/** The audit log: export it (CSV or JSON lines, to standard output) and verify its hash chain. */
export const auditCommands: Record<string, Command> = {
  'audit export': {
    usage: 'sparekey audit export --format csv|jsonl [--since <ISO date>] [--until <ISO date>] > file',
    summary: 'Write the audit log to standard output, oldest first; progress goes to standard error.',
    options: { format: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' } },
    run: async (useCases, { values }, io) => {
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
      for await (const chunk of useCases.exportAuditLog(format, { since, until })) {
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
    run: async (useCases, _args, io) => {
      const result = await useCases.verifyAuditLog();
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
};
