import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** USER_HZ: fixed at 100 in the kernel's ABI on every architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Peak resident memory so far (VmHWM), in MiB. */
  peakRssMiB(): number;
  /**
   * CPU time the server process has used so far (user + system, all its threads), in seconds: what a
   * request costs the server, whatever else shares the machine (throughput does depend on that).
   */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * The Node flags of the server process, as package.json's start script (`npm start`) gives them, the one
 * place they are set (docs/deployment.md's systemd unit repeats them; test/http/server-node-flags.test.ts
 * keeps the two equal).
 */
export function serverNodeFlags(): string[] {
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } };
  const words = manifest.scripts.start.split(/\s+/);
  return words.slice(words.indexOf('node') + 1, words.indexOf('dist/main.js'));
}

/** Starts `script` in its own Node process on `port` and waits until `readyPath` answers. */
export async function startServer(
  script: string,
  port: number,
  env: Record<string, string>,
  readyPath: string,
  method = 'GET',
): Promise<ServerProcess> {
  // BENCH_PROFILE_DIR=/some/dir writes a CPU profile of each server process there (open it in Chrome's DevTools).
  const profile = process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR]
    : [];
  // Compiled JavaScript (dist/) runs on plain Node, the server with the Node flags `npm start` gives it;
  // TypeScript sources through tsx.
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const flags = script === 'dist/main.js' ? serverNodeFlags() : [];
  const child = spawn(process.execPath, [...profile, ...flags, ...loader, script], {
    env: { ...process.env, ...env, PORT: String(port), NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    const up = await fetch(`${url}${readyPath}`, { method }).then(
      (response) => response.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error(`${script} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    url,
    peakRssMiB: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kib = Number(status.match(/^VmHWM:\s+(\d+) kB/m)?.[1] ?? 0);
      return kib / 1024;
    },
    cpuSeconds: () => {
      // /proc/<pid>/stat: the fields after the command name (which may hold spaces) start at the state;
      // utime and stime are fields 14 and 15, in clock ticks (100 a second on Linux).
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
