import type { ParseArgsConfig } from 'node:util';
import type { Config } from '../config/config.js';
import type { UseCases } from '../service/use-cases.js';

/** What every CLI command is: a usage line, options, and one use case run against the configured database. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  stdin(): Promise<string>;
}

export type Command = {
  usage: string;
  summary: string;
  options?: ParseArgsConfig['options'];
  /** How many positional arguments it takes (no max: any number); fewer or more is wrong usage (exit 2). Default: none. */
  positionals?: { min: number; max?: number };
  /** Further wrong-usage checks of the parsed arguments (exit 2 with the message), before anything is opened. */
  usageProblem?(args: { positionals: string[]; values: Record<string, unknown> }): string | undefined;
  run(
    useCases: UseCases,
    args: { positionals: string[]; values: Record<string, unknown> },
    io: Io,
    config: Readonly<Config>,
  ): Promise<number>;
};

export const CLI_CONTEXT = { ip: null, userAgent: 'sparekey-cli', actorId: 'cli' };
