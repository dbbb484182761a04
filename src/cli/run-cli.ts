import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { openServiceDeps } from '../open-service-deps.js';
import type { Command, Io } from './command.js';
import { commands } from './commands/index.js';

/** Exit codes, as documented in docs/api.md: 0 done, 1 refused or a problem found, 2 wrong usage. */
const DONE = 0;
const PROBLEM = 1;
const WRONG_USAGE = 2;

const SERVE_USAGE = 'sparekey serve';
const SERVE_SUMMARY =
  'Start the server (what npm start runs). It reads the environment described in docs/configuration.md.';

/** package.json sits two levels above this file both in src/cli/ and in the compiled dist/cli/. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8'));
  return String(pkg.version);
}

function help(): string {
  const rows = Object.values(commands).map((command) => `  ${command.usage}\n      ${command.summary}`);
  return [
    'Usage: sparekey <command> [options]',
    '',
    `  ${SERVE_USAGE}\n      ${SERVE_SUMMARY}`,
    ...rows,
    '',
    'Every command takes --help; sparekey --version prints the version. Configuration comes from the same',
    'environment variables as the server (see docs/configuration.md).',
    'Exit codes: 0 done, 1 refused or found a problem, 2 wrong usage.',
  ].join('\n');
}

/** Which command argv names: three words first ("oidc client add"), then two ("user add"), then one ("stats"). */
function commandName(argv: readonly string[]): string | undefined {
  return [argv.slice(0, 3), argv.slice(0, 2), argv.slice(0, 1)]
    .filter((words) => words.length > 0)
    .map((words) => words.join(' '))
    .find((candidate) => candidate in commands);
}

type Parsed = { positionals: string[]; values: Record<string, unknown> };

/** Parses a command's arguments; a string is the wrong-usage message. */
function parseCommandArgs(command: Command, rest: readonly string[]): Parsed | string {
  let parsed: Parsed;
  try {
    parsed = parseArgs({
      args: [...rest],
      options: { help: { type: 'boolean' }, ...command.options },
      allowPositionals: true,
    });
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  if (parsed.values.help) return parsed;
  const { min, max = Number.POSITIVE_INFINITY } = command.positionals ?? { min: 0, max: 0 };
  const count = parsed.positionals.length;
  if (count < min) return `Missing ${min - count === 1 ? 'an argument' : 'arguments'}.`;
  if (count > max) return `Unexpected argument "${parsed.positionals[max]}".`;
  return command.usageProblem?.(parsed) ?? parsed;
}

/**
 * Runs one command in this process and returns its exit code (the bin in main.ts sets process.exitCode);
 * tests call it directly with an Io and an environment of their own. Help, version and wrong usage are
 * answered before any configuration is read or database opened. Commands get the use cases, never the store.
 */
export async function runCli(argv: readonly string[], io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version') {
    io.out(`sparekey ${packageVersion()}`);
    return DONE;
  }
  if (argv[0] === 'serve') {
    if (argv[1] === '--help' || argv[1] === '-h') {
      io.out(`Usage: ${SERVE_USAGE}\n\n${SERVE_SUMMARY}`);
      return DONE;
    }
    if (argv.length > 1) {
      io.err(`sparekey serve takes no arguments.\nUsage: ${SERVE_USAGE}`);
      return WRONG_USAGE;
    }
    // The server's own entry point; it sets process.exitCode itself when it cannot start.
    await import('../main.js');
    return Number(process.exitCode ?? DONE);
  }
  const name = commandName(argv);
  if (!name) {
    const asked = argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h';
    if (asked) io.out(help());
    else io.err(`Unknown command "${argv.join(' ')}".\n\n${help()}`);
    return asked ? DONE : WRONG_USAGE;
  }
  const command = commands[name] as Command;
  const parsed = parseCommandArgs(command, argv.slice(name.split(' ').length));
  if (typeof parsed === 'string') {
    io.err(`${parsed}\nUsage: ${command.usage}`);
    return WRONG_USAGE;
  }
  if (parsed.values.help) {
    io.out(`Usage: ${command.usage}\n\n${command.summary}`);
    return DONE;
  }
  const loaded = loadConfig(env);
  if (!loaded.ok) {
    io.err(
      `SpareKey cannot read its configuration:\n${loaded.problems.map((problem) => `  - ${problem}`).join('\n')}`,
    );
    return WRONG_USAGE;
  }
  const opened = await openServiceDeps(loaded.config);
  if (!opened.ok) {
    io.err(opened.problem);
    return PROBLEM;
  }
  try {
    return await command.run(opened.useCases, parsed, io, loaded.config);
  } finally {
    await opened.close();
  }
}
