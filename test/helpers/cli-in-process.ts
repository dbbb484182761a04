import { spawnSync } from 'node:child_process';
import { runCli } from '../../src/cli/run-cli.js';
import { loadConfig } from '../../src/config/load-config.js';
import { openServiceDeps } from '../../src/open-service-deps.js';
import type { UseCases } from '../../src/service/use-cases.js';
import { compiledPath } from './compiled-build.js';

export interface CliRun {
  status: number | null;
  /** Standard output as the bin writes it: every line the command printed, each ending in a newline. */
  out: string;
  /** Standard error, likewise. */
  err: string;
}

/**
 * The CLI in this process (runCli, what the bin wraps), with an environment of the test's own and text on
 * standard input. Output is shaped like the bin's console.log/console.error output, so expectations hold
 * for both; test/cli/usage.test.ts keeps one spawned smoke test of the real compiled bin.
 */
export async function runCliInProcess(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<CliRun> {
  let out = '';
  let err = '';
  const status = await runCli(
    args,
    {
      out: (text) => {
        out += `${text}\n`;
      },
      err: (text) => {
        err += `${text}\n`;
      },
      stdin: async () => stdin,
    },
    env,
  );
  return { status, out, err };
}

/** The real `sparekey` bin, compiled once per run by the global setup, as a process. */
export function runCliProcess(args: string[], env: NodeJS.ProcessEnv, stdin = ''): CliRun {
  const run = spawnSync(process.execPath, [compiledPath('cli/main.js'), ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    input: stdin,
    encoding: 'utf8',
  });
  return { status: run.status, out: run.stdout, err: run.stderr };
}

/**
 * The use cases of the deployment `env` configures, opened in this process: a test's own side of the
 * database the CLI it runs opens (to set up users, or to check what a command changed).
 */
export async function openUseCasesOf(
  env: NodeJS.ProcessEnv,
): Promise<{ useCases: UseCases; close: () => Promise<void> }> {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const opened = await openServiceDeps(loaded.config);
  if (!opened.ok) throw new Error(opened.problem);
  return { useCases: opened.useCases, close: opened.close };
}
