/**
 * Issue 7.2: what SpareKey's HTTP edge costs. With the KDF at its minimum (SPAREKEY_KDF_PROFILE=minimum, a
 * bench-only setting, so the hash no longer hides everything else), autocannon on 127.0.0.1 drives
 *   - a Fastify hello-world route in its own Node process (the baseline),
 *   - SpareKey's server (`src/main.ts`, one Node process): POST verify-recovery-code with an API key, each
 *     request spending a different code (consumed, audited: 200s only), and
 *   - sign-in: POST /auth/sign-in then POST /auth/second-factor/totp, each flow a different user,
 * and prints requests/s, the ratio to hello-world (target >= 0.35 for verify on SQLite) and the server's peak
 * resident memory (VmHWM) under that load.
 *
 *   npm run bench:http                   # SQLite and PostgreSQL, 10 s per run
 *   BENCH_QUICK=1 npm run bench:http     # 4 s per run, fewer users
 *   BENCH_ENGINES=sqlite                 # one engine
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import * as OTPAuth from 'otpauth';
import { createServiceDeps } from '../src/compose.js';
import { loadConfig } from '../src/config/load-config.js';
import { createUser } from '../src/service/accounts/accounts.js';
import { createApiKey } from '../src/service/admin/api-keys.js';
import { updateRecoveryCodeSettings } from '../src/service/admin/settings.js';
import type { ServiceDeps } from '../src/service/deps.js';
import { confirmTotp } from '../src/service/factors/confirm-totp.js';
import { enrollTotp } from '../src/service/factors/enroll-totp.js';
import { openStore } from '../src/store/open-store.js';
import { benchServerDatabase } from './support/server-database.js';
import { freePort, type ServerProcess, startServer } from './support/server-process.js';

const QUICK = process.env.BENCH_QUICK === '1' || process.argv.includes('--quick');
const ENGINES = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',');
const SECONDS = QUICK ? 3 : 10;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const PASSWORD = 'correct horse battery staple';
/** Codes per user; users are seeded so that no request of a run reuses a code or a TOTP time step. */
const CODES_PER_USER = 10;
const VERIFY_USERS = QUICK ? 120 : 2500;
const SIGN_IN_USERS = QUICK ? 120 : 2500;
/** A run stops at this many seconds even with codes or users left (a slow engine on a slow day). */
const LIMIT_SECONDS = QUICK ? 2 * SECONDS : 3 * SECONDS;

interface Seeded {
  userId: string;
  email: string;
  totpSecret: string;
  /** Each TOTP step is accepted once per user; confirmation spent the current one, sign-in uses the next. */
  nextStepAtMs: number;
  codes: string[];
}

/** Seeds `count` users, eight at a time (their transactions share commits), each with TOTP and codes. */
async function seedUsers(deps: ServiceDeps, count: number, label: string): Promise<Seeded[]> {
  const users: Seeded[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) users.push(await seedUser(deps, `${label}-${next++}`));
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: 8 }, worker));
  console.log(`(${label}: ${count} users seeded in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return users;
}

async function seedUser(deps: ServiceDeps, label: string): Promise<Seeded> {
  const email = `${label}-${deps.random.uuid().slice(0, 8)}@bench.test`;
  const created = await createUser(deps, { email, password: PASSWORD, context: {} });
  if (!created.ok) throw new Error(created.error);
  const { userId } = created.value;
  const enrollment = await enrollTotp(deps, { userId, context: {} });
  if (!enrollment.ok) throw new Error(enrollment.error);
  const now = Date.now();
  const confirmed = await confirmTotp(deps, {
    userId,
    factorId: enrollment.value.factorId,
    code: totp(enrollment.value.secret, now),
    context: {},
  });
  if (!confirmed.ok || !confirmed.value.recoveryCodes)
    throw new Error(`confirm: ${JSON.stringify(confirmed)}`);
  return {
    userId,
    email,
    totpSecret: enrollment.value.secret,
    nextStepAtMs: now + 30_000,
    codes: [...confirmed.value.recoveryCodes.codes],
  };
}

function totp(secretBase32: string, atMs: number): string {
  return new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(secretBase32),
    digits: 6,
    period: 30,
  }).generate({
    timestamp: atMs,
  });
}

/** What one autocannon connection carries from the sign-in request to the TOTP request. */
interface FlowContext {
  user: Seeded;
  token?: string;
}

interface Load {
  requestsPerSecond: number;
  non2xx: number;
  errors: number;
  requests: number;
}

/**
 * Runs autocannon and times it ourselves, from the start to the last response: with a fixed `amount`,
 * autocannon's own duration is rounded to its one-second ticks, too coarse for runs of a few seconds.
 * autocannon ignores `duration` when `amount` is set, so `limitSeconds` stops a slow run itself.
 */
async function drive(options: autocannon.Options, limitSeconds?: number): Promise<Load> {
  const started = performance.now();
  let lastResponseAt = started;
  let responses = 0;
  const instance = autocannon({ connections: CONNECTIONS, ...options }) as unknown as autocannon.Instance &
    Promise<autocannon.Result>;
  instance.on('response', () => {
    responses++;
    lastResponseAt = performance.now();
  });
  const limit =
    limitSeconds === undefined ? undefined : setTimeout(() => instance.stop(), limitSeconds * 1000);
  const result = await instance;
  clearTimeout(limit);
  return {
    requestsPerSecond: responses / ((lastResponseAt - started) / 1000),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    requests: responses,
  };
}

async function helloWorld(): Promise<Load> {
  const server = await startServer('bench/support/hello-server.ts', await freePort(), {}, '/hello', 'POST');
  try {
    return await drive({
      url: `${server.url}/hello`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'ABCDE-FGHIJ' }),
      duration: SECONDS,
    });
  } finally {
    await server.stop();
  }
}

function sparekeyEnv(engine: string) {
  return benchServerDatabase(engine, 'http', {
    SPAREKEY_ADMIN_EMAIL: 'admin@bench.test',
    SPAREKEY_ADMIN_PASSWORD: PASSWORD,
  });
}

/** Opens the server's database from this process with the server's configuration (same keys, same KDF). */
async function withDeps<T>(env: Record<string, string>, work: (deps: ServiceDeps) => Promise<T>): Promise<T> {
  const loaded = loadConfig({ ...env, PORT: '0' });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const opened = await openStore(loaded.config.database);
  try {
    return await work(createServiceDeps(loaded.config, opened.store));
  } finally {
    await opened.close();
  }
}

interface EngineFigures {
  engine: string;
  verify: Load;
  signIn: Load;
  peakRssMiB: number;
}

async function benchEngine(engine: string): Promise<EngineFigures> {
  const { env, cleanup } = await sparekeyEnv(engine);
  let server: ServerProcess | undefined;
  try {
    // The server creates the schema and the first administrator; seeding then runs beside it.
    server = await startServer('src/main.ts', await freePort(), env, '/readyz');
    const { apiKey, verifyUsers } = await withDeps(env, async (deps) => {
      const settings = await updateRecoveryCodeSettings(
        deps,
        { enabled: true, codesPerSet: CODES_PER_USER },
        {},
      );
      if (!settings.ok) throw new Error(settings.problems?.join('; '));
      const key = await createApiKey(deps, { name: 'bench', scopes: ['recovery_codes:write'], context: {} });
      if (!key.ok) throw new Error(key.error);
      return { apiKey: key.value.key, verifyUsers: await seedUsers(deps, VERIFY_USERS, `verify-${engine}`) };
    });
    // Round-robin over users: an account's attempts in flight each hold a charge until they settle, so
    // many concurrent spends on one account would be throttled, as they should.
    const spends = Array.from({ length: CODES_PER_USER }, (_, slot) =>
      verifyUsers.map((user) => ({ userId: user.userId, code: user.codes[slot] as string })),
    ).flat();
    let nextSpend = 0;
    const verify = await drive(
      {
        url: server.url,
        // autocannon can overshoot `amount` by the requests in flight: keep a spare code per connection.
        amount: spends.length - CONNECTIONS,
        requests: [
          {
            method: 'POST',
            setupRequest: (request) => {
              const spend = spends[nextSpend++ % spends.length] as { userId: string; code: string };
              return {
                ...request,
                path: `/api/v1/users/${spend.userId}/recovery-codes/verify`,
                headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
                body: JSON.stringify({ code: spend.code }),
              };
            },
            onResponse: (status, body) => {
              if (status !== 200 && process.env.BENCH_DEBUG) console.error(status, body);
            },
          },
        ],
      },
      LIMIT_SECONDS,
    );

    const signInUsers = await withDeps(env, (deps) => seedUsers(deps, SIGN_IN_USERS, `sign-in-${engine}`));
    let nextUser = 0;
    const signIn = await drive(
      {
        url: server.url,
        // Likewise a spare user per connection, so no flow ever reuses a user's TOTP step.
        amount: (signInUsers.length - CONNECTIONS) * 2,
        requests: [
          {
            method: 'POST',
            path: '/api/v1/auth/sign-in',
            setupRequest: (request, context) => {
              const user = signInUsers[nextUser++ % signInUsers.length] as Seeded;
              (context as FlowContext).user = user;
              return {
                ...request,
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ email: user.email, password: PASSWORD }),
              };
            },
            onResponse: (status, body, context) => {
              if (status !== 200 && process.env.BENCH_DEBUG) console.error('sign-in', status, body);
              (context as FlowContext).token = (JSON.parse(body) as { token?: string }).token;
            },
          },
          {
            method: 'POST',
            path: '/api/v1/auth/second-factor/totp',
            setupRequest: (request, context) => {
              const { user, token } = context as FlowContext;
              return {
                ...request,
                headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
                body: JSON.stringify({
                  code: totp(user.totpSecret, Math.max(Date.now(), user.nextStepAtMs)),
                }),
              };
            },
            onResponse: (status, body) => {
              if (status !== 200 && process.env.BENCH_DEBUG) console.error('totp', status, body);
            },
          },
        ],
      },
      LIMIT_SECONDS,
    );
    return { engine, verify, signIn, peakRssMiB: server.peakRssMiB() };
  } finally {
    await server?.stop();
    await cleanup();
  }
}

const hello = await helloWorld();
const figures: EngineFigures[] = [];
for (const engine of ENGINES) figures.push(await benchEngine(engine));

const rate = (load: Load) => `${load.requestsPerSecond.toFixed(0)} req/s`;
const problems = (load: Load) =>
  load.non2xx + load.errors === 0 ? 'none' : `${load.non2xx} non-2xx, ${load.errors} errors`;
console.log(
  `\nHTTP overhead (KDF at its minimum cost; autocannon, ${CONNECTIONS} connections on 127.0.0.1; server and load generator share the machine)\n`,
);
console.log('| engine | route | throughput | ratio to hello-world | failed responses | server peak RSS |');
console.log('|---|---|---|---|---|---|');
console.log(`| - | Fastify hello-world (baseline) | ${rate(hello)} | 1.00 | ${problems(hello)} | - |`);
for (const row of figures) {
  console.log(
    `| ${row.engine} | POST verify-recovery-code (consumed, audited) | ${rate(row.verify)} | ${(row.verify.requestsPerSecond / hello.requestsPerSecond).toFixed(2)} | ${problems(row.verify)} | ${row.peakRssMiB.toFixed(0)} MiB |`,
  );
  console.log(
    `| ${row.engine} | sign-in + TOTP (2 requests per flow; ${(row.signIn.requestsPerSecond / 2).toFixed(0)} flows/s) | ${rate(row.signIn)} | ${(row.signIn.requestsPerSecond / hello.requestsPerSecond).toFixed(2)} | ${problems(row.signIn)} | |`,
  );
}
const sqlite = figures.find((row) => row.engine === 'sqlite');
if (sqlite) {
  const ratio = sqlite.verify.requestsPerSecond / hello.requestsPerSecond;
  console.log(
    ratio >= 0.35
      ? `\nTarget met: verify on SQLite at ${ratio.toFixed(2)} of hello-world (>= 0.35).`
      : `\nTarget missed: verify on SQLite at ${ratio.toFixed(2)} of hello-world (< 0.35; see docs/benchmarks.md).`,
  );
}
if (
  figures.some((row) => row.verify.non2xx + row.verify.errors + row.signIn.non2xx + row.signIn.errors > 0)
) {
  console.error('Some requests failed: the figures above do not measure what they claim.');
  process.exitCode = 1;
}
