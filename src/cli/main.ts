#!/usr/bin/env node
import type { Io } from './command.js';
import { runCli } from './run-cli.js';

/** The `sparekey` bin: the process's arguments, console and standard input around runCli. */
const io: Io = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
  stdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};
process.exitCode = await runCli(process.argv.slice(2), io, process.env);
