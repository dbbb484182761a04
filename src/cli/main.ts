import { loadConfig } from '../config/load-config.js';
import { describeChainBreak, verifyAuditChain } from '../service/admin/audit-log.js';
import { openStore } from '../store/open-store.js';

const USAGE = `Usage: sparekey <command>

Commands:
  audit verify    Check the audit log's hash chain; exit 1 and name the first broken event if it is not intact.

Configuration comes from the same environment variables as the server (see docs/configuration.md).`;

/** The command-line edge: parse, call one use case, print, exit 0 (ok), 1 (found a problem) or 2 (usage). */
export async function runCli(argv: readonly string[], out: (line: string) => void): Promise<number> {
  const [group, command] = argv;
  if (group === 'audit' && command === 'verify') {
    const loaded = loadConfig(process.env);
    if (!loaded.ok) {
      out(
        `SpareKey cannot read its configuration:\n${loaded.problems.map((problem) => `  - ${problem}`).join('\n')}`,
      );
      return 2;
    }
    const opened = await openStore(loaded.config.database);
    try {
      const result = await verifyAuditChain(opened.store);
      if (result.ok) {
        out(`The audit chain verifies: ${result.checked} events, none altered or missing.`);
        return 0;
      }
      out(
        `The audit chain is broken. ${describeChainBreak(result.firstBreak as NonNullable<typeof result.firstBreak>)}`,
      );
      out(`${result.checked} events before it verified.`);
      return 1;
    } finally {
      await opened.close();
    }
  }
  out(USAGE);
  return group === undefined || group === 'help' || group === '--help' ? 0 : 2;
}

process.exitCode = await runCli(process.argv.slice(2), (line) => console.log(line));
