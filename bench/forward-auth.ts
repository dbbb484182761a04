/**
 * Forward auth's cost (docs/integrations.md): autocannon on 127.0.0.1 drives, in the same run,
 *   - a Fastify hello-world GET in its own Node process (the baseline), and
 *   - SpareKey's server (`src/main.ts`, one Node process, SQLite): GET /api/verify/auth-request as nginx's
 *     auth_request sends it (the session cookie and X-Original-URL), for a signed-in person whom a
 *     one_factor rule lets in: 200 with Remote-* headers,
 * and prints requests/s and the ratio to hello-world (target >= 0.5: a verdict is answered from the
 * session, with no KDF).
 *
 *   npm run bench:forward-auth             # 10 s per run
 *   BENCH_QUICK=1 npm run bench:forward-auth
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { freePort, type ServerProcess, startServer } from './support/server-process.js';

const QUICK = process.env.BENCH_QUICK === '1' || process.argv.includes('--quick');
const SECONDS = QUICK ? 3 : 10;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const PASSWORD = 'correct horse battery staple';
const TARGET = 0.5;

interface Load {
  requestsPerSecond: number;
  non2xx: number;
  errors: number;
}

async function drive(options: autocannon.Options): Promise<Load> {
  const started = performance.now();
  let lastResponseAt = started;
  let responses = 0;
  const instance = autocannon({
    connections: CONNECTIONS,
    duration: SECONDS,
    ...options,
  }) as unknown as autocannon.Instance & Promise<autocannon.Result>;
  instance.on('response', () => {
    responses++;
    lastResponseAt = performance.now();
  });
  const result = await instance;
  return {
    requestsPerSecond: responses / ((lastResponseAt - started) / 1000),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function helloWorld(): Promise<Load> {
  const server = await startServer('bench/support/hello-server.ts', await freePort(), {}, '/hello');
  try {
    return await drive({ url: `${server.url}/hello` });
  } finally {
    await server.stop();
  }
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
    SPAREKEY_LOG_LEVEL: 'warn',
    SPAREKEY_EMAIL_OTP: 'off',
    SPAREKEY_ADMIN_EMAIL: 'admin@bench.test',
    SPAREKEY_ADMIN_PASSWORD: PASSWORD,
    SPAREKEY_PUBLIC_URL: 'https://auth.example.com',
    SPAREKEY_COOKIE_DOMAIN: 'example.com',
    SPAREKEY_ACCESS_RULES_FILE: rulesFile,
  };
  const server = await startServer('src/main.ts', await freePort(), env, '/readyz');
  const signedIn = await fetch(`${server.url}/api/v1/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@bench.test', password: PASSWORD }),
  });
  const { token } = (await signedIn.json()) as { token?: string };
  if (!token) throw new Error(`sign-in: ${signedIn.status}`);
  return { server, token };
}

const hello = await helloWorld();
const dataDir = mkdtempSync(join(tmpdir(), 'sparekey-bench-forward-auth-'));
let verdicts: Load;
try {
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
    verdicts = await drive({ url: `${server.url}/api/verify/auth-request`, headers });
  } finally {
    await server.stop();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

const ratio = verdicts.requestsPerSecond / hello.requestsPerSecond;
const problems = (load: Load) =>
  load.non2xx + load.errors === 0 ? 'none' : `${load.non2xx} non-2xx, ${load.errors} errors`;
console.log(
  `\nForward auth (autocannon, ${CONNECTIONS} connections, ${SECONDS} s each on 127.0.0.1; server and load generator share the machine)\n`,
);
console.log('| route | throughput | ratio to hello-world | failed responses |');
console.log('|---|---|---|---|');
console.log(
  `| Fastify hello-world GET (baseline) | ${hello.requestsPerSecond.toFixed(0)} req/s | 1.00 | ${problems(hello)} |`,
);
console.log(
  `| GET /api/verify/auth-request (signed in, one_factor rule: 200 + Remote-*) | ${verdicts.requestsPerSecond.toFixed(0)} req/s | ${ratio.toFixed(2)} | ${problems(verdicts)} |`,
);
console.log(
  ratio >= TARGET
    ? `\nTarget met: forward auth at ${ratio.toFixed(2)} of hello-world (>= ${TARGET}).`
    : `\nTarget missed: forward auth at ${ratio.toFixed(2)} of hello-world (< ${TARGET}; see docs/benchmarks.md).`,
);
if (verdicts.non2xx + verdicts.errors > 0) {
  console.error('Some verdicts were not 200: the figures above do not measure what they claim.');
  process.exitCode = 1;
}
