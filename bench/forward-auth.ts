/**
 * Forward auth's cost (docs/integrations.md): autocannon on 127.0.0.1 drives, in the same run,
 *   - a Fastify hello-world GET in its own Node process (the baseline), and
 *   - SpareKey's server (compiled `dist/main.js` with the Node flags of `npm start`, one process, SQLite):
 *     GET /api/verify/auth-request as nginx's auth_request sends it (the session cookie and X-Original-URL),
 *     for a signed-in person whom a one_factor rule lets in: 200 with Remote-* headers,
 * and prints requests/s and the ratio to hello-world (target >= 0.5: a verdict is answered from the
 * session, with no KDF).
 *
 * Fair on a small shared machine: each server is one Node process with NODE_ENV=production, SpareKey as
 * `npm start` runs it (src/ is compiled first when it is newer than dist/), and both are driven by the same
 * load generator in a process of its own (bench/support/load-generator.ts), in alternating rounds so that
 * a change in the machine's load hits both. Besides requests/s (which depends on what else runs), it prints the CPU time each server
 * process spent per request, read from /proc: its ratio is what the throughput ratio would be with a core
 * to each server, and it holds up on a busy machine.
 *
 *   npm run bench:forward-auth             # 3 rounds of 10 s per target
 *   BENCH_QUICK=1 npm run bench:forward-auth   # 1 round of 3 s
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import { buildServer } from './support/build-server.js';
import { freePort, type ServerProcess, startServer } from './support/server-process.js';

const QUICK = process.env.BENCH_QUICK === '1' || process.argv.includes('--quick');
const SECONDS = QUICK ? 3 : 10;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const PASSWORD = 'correct horse battery staple';
const TARGET = 0.5;

interface Load {
  requestsPerSecond: number;
  /** The server process's CPU time per answered request, in microseconds. */
  cpuMicrosPerRequest: number;
  non2xx: number;
  errors: number;
}

/** One run of the load generator against `server`, in its own process; the server's CPU time around it. */
async function drive(server: ServerProcess, options: autocannon.Options): Promise<Load> {
  const cpuBefore = server.cpuSeconds();
  const generator = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/support/load-generator.ts',
      JSON.stringify({ connections: CONNECTIONS, duration: SECONDS, ...options }),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  generator.stdout.on('data', (chunk) => {
    output += chunk;
  });
  const code = await new Promise<number | null>((resolve) => generator.once('exit', resolve));
  const cpu = server.cpuSeconds() - cpuBefore;
  if (code !== 0) throw new Error(`the load generator exited with ${code}`);
  const run = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as {
    responses: number;
    seconds: number;
    non2xx: number;
    errors: number;
  };
  return {
    requestsPerSecond: run.responses / run.seconds,
    cpuMicrosPerRequest: (cpu * 1e6) / run.responses,
    non2xx: run.non2xx,
    errors: run.errors,
  };
}

/** The middle value (the lower middle of an even count). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

/** SpareKey as docs/integrations.md configures it, with one signed-in person; their session token. */
async function startSpareKey(dataDir: string): Promise<{ server: ServerProcess; token: string }> {
  const rulesFile = join(dataDir, 'access-rules.json');
  writeFileSync(
    rulesFile,
    JSON.stringify({
      defaultPolicy: 'deny',
      rules: [
        { name: 'blocked', hosts: ['app.example.com'], pathPrefix: '/admin', policy: 'deny' },
        { name: 'app', hosts: ['app.example.com'], policy: 'one_factor' },
      ],
    }),
  );
  const env = {
    SPAREKEY_DATA_DIR: dataDir,
    SPAREKEY_SECRET: Buffer.alloc(32, 7).toString('base64'),
    SPAREKEY_KDF_PROFILE: 'minimum',
    // The server's default level (info), as a deployment runs it: the request log lines are part of what a
    // request costs (BENCH_LOG_LEVEL=warn measures without them).
    SPAREKEY_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    SPAREKEY_EMAIL_OTP: 'off',
    SPAREKEY_ADMIN_EMAIL: 'admin@bench.test',
    SPAREKEY_ADMIN_PASSWORD: PASSWORD,
    SPAREKEY_PUBLIC_URL: 'https://auth.example.com',
    SPAREKEY_COOKIE_DOMAIN: 'example.com',
    SPAREKEY_ACCESS_RULES_FILE: rulesFile,
  };
  const server = await startServer('dist/main.js', await freePort(), env, '/readyz');
  const signedIn = await fetch(`${server.url}/api/v1/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@bench.test', password: PASSWORD }),
  });
  const { token } = (await signedIn.json()) as { token?: string };
  if (!token) throw new Error(`sign-in: ${signedIn.status}`);
  return { server, token };
}

buildServer();
const dataDir = mkdtempSync(join(tmpdir(), 'sparekey-bench-forward-auth-'));
const loadBefore = loadavg()[0] ?? 0;
const rounds: { hello: Load; verdicts: Load }[] = [];
try {
  const hello = await startServer('bench/support/hello-server.ts', await freePort(), {}, '/hello');
  const { server, token } = await startSpareKey(dataDir);
  try {
    const headers = {
      cookie: `__Secure-sparekey_session=${token}`,
      'x-original-url': 'https://app.example.com/dashboard?panel=3',
      'x-original-method': 'GET',
    };
    const check = await fetch(`${server.url}/api/verify/auth-request`, { headers });
    if (check.status !== 200 || !check.headers.get('remote-user')) {
      throw new Error(
        `the verdict is not "allowed" (${check.status}): the bench would measure something else`,
      );
    }
    // The 200 comes from the cookie (with a cookie domain it is __Secure-, not __Host-): without it the
    // same request must be asked to sign in, or the bench would measure an anonymous verdict.
    const { cookie: _cookie, ...anonymous } = headers;
    const without = await fetch(`${server.url}/api/verify/auth-request`, { headers: anonymous });
    if (without.status !== 401) {
      throw new Error(`without the session cookie the verdict is ${without.status}, not 401`);
    }
    for (let round = 0; round < ROUNDS; round++) {
      rounds.push({
        hello: await drive(hello, { url: `${hello.url}/hello` }),
        verdicts: await drive(server, { url: `${server.url}/api/verify/auth-request`, headers }),
      });
    }
  } finally {
    await server.stop();
    await hello.stop();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
const loadAfter = loadavg()[0] ?? 0;

const problems = (loads: Load[]) => {
  const non2xx = loads.reduce((sum, load) => sum + load.non2xx, 0);
  const errors = loads.reduce((sum, load) => sum + load.errors, 0);
  return non2xx + errors === 0 ? 'none' : `${non2xx} non-2xx, ${errors} errors`;
};
const hellos = rounds.map((round) => round.hello);
const verdicts = rounds.map((round) => round.verdicts);
const ratio = median(rounds.map((round) => round.verdicts.requestsPerSecond / round.hello.requestsPerSecond));
const cpuRatio = median(
  rounds.map((round) => round.hello.cpuMicrosPerRequest / round.verdicts.cpuMicrosPerRequest),
);
console.log(
  `\nForward auth (autocannon in its own process, ${CONNECTIONS} connections, ${ROUNDS} alternating round(s) of ${SECONDS} s per target on 127.0.0.1; load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after)\n`,
);
console.log(
  '| route | throughput (median) | ratio to hello-world | server CPU per request (median) | CPU ratio | failed responses |',
);
console.log('|---|---|---|---|---|---|');
const row = (name: string, loads: Load[], ratioText: string, cpuRatioText: string) =>
  console.log(
    `| ${name} | ${median(loads.map((load) => load.requestsPerSecond)).toFixed(0)} req/s | ${ratioText} | ${median(loads.map((load) => load.cpuMicrosPerRequest)).toFixed(0)} µs | ${cpuRatioText} | ${problems(loads)} |`,
  );
row('Fastify hello-world GET (baseline)', hellos, '1.00', '1.00');
row(
  'GET /api/verify/auth-request (signed in, one_factor rule: 200 + Remote-*)',
  verdicts,
  ratio.toFixed(2),
  cpuRatio.toFixed(2),
);
if (ROUNDS > 1) {
  console.log(
    `\nPer round (throughput ratio / CPU ratio): ${rounds.map((round) => `${(round.verdicts.requestsPerSecond / round.hello.requestsPerSecond).toFixed(2)} / ${(round.hello.cpuMicrosPerRequest / round.verdicts.cpuMicrosPerRequest).toFixed(2)}`).join(', ')}`,
  );
}
console.log(
  ratio >= TARGET
    ? `\nTarget met: forward auth at ${ratio.toFixed(2)} of hello-world's requests/s (>= ${TARGET}; CPU ratio ${cpuRatio.toFixed(2)}).`
    : `\nTarget missed: forward auth at ${ratio.toFixed(2)} of hello-world's requests/s (< ${TARGET}; CPU ratio ${cpuRatio.toFixed(2)}; see docs/benchmarks.md).`,
);
if (verdicts.some((load) => load.non2xx + load.errors > 0)) {
  console.error('Some verdicts were not 200: the figures above do not measure what they claim.');
  process.exitCode = 1;
}
