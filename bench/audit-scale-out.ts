/**
 * Issue 25: audited actions scale with connections and instances (decision 0007). For each engine, with
 * 1 and 2 SpareKey server processes (compiled `dist/main.js`, as `npm start` runs it) on one database, at
 * 1, 4, 16 and 64 connections (split between the processes):
 *   - POST verify-recovery-code with a backend's API key, every request a different code (consumed,
 *     audited), in requests/s;
 *   - a person's sign-in + TOTP flow (POST /auth/sign-in, then /auth/second-factor/totp with its token),
 *     every flow a different user from an address of its own (X-Forwarded-For, the servers trust the proxy),
 *     in flows/s (two requests, two password-or-code checks, three audited transactions each);
 *   - beside them, the database's own commit rate at the same concurrency: a bare single-row INSERT + COMMIT
 *     (PostgreSQL: a pool of that size; SQLite: one connection with WAL and synchronous=FULL, as each
 *     server process has, since SQLite commits one writer at a time whatever the concurrency);
 *   - the sealing lag of the run's events (sealed_at - at): p50 and p99;
 *   - the servers' CPU time per request and per flow (what each costs, whatever else runs on the machine);
 *   - each server's peak resident memory (VmHWM), the larger of the two.
 *
 *   npm run bench:audit                  # both engines, 8 s per load
 *   BENCH_QUICK=1 npm run bench:audit    # 4 s per load
 *   BENCH_ENGINES=postgres               # one engine
 *   BENCH_CONNECTION_LEVELS=16,64        # only those
 *   BENCH_INSTANCES=1,2,4                # SQLite: several processes on one file
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import * as OTPAuth from 'otpauth';
import pg from 'pg';
import { createServiceDeps } from '../src/compose.js';
import { loadConfig } from '../src/config/load-config.js';
import { createUser } from '../src/service/accounts/accounts.js';
import { createApiKey } from '../src/service/admin/api-keys.js';
import { updateRecoveryCodeSettings } from '../src/service/admin/settings.js';
import type { ServiceDeps } from '../src/service/deps.js';
import { confirmTotp } from '../src/service/factors/confirm-totp.js';
import { enrollTotp } from '../src/service/factors/enroll-totp.js';
import { type OpenedStore, openStore } from '../src/store/open-store.js';
import { flowLoad, SeededPool, type SeededUser, verifyLoad } from './support/audited-load.js';
import { buildServer } from './support/build-server.js';
import { benchServerDatabase } from './support/server-database.js';
import { freePort, type ServerProcess, startServer } from './support/server-process.js';

const QUICK = process.env.BENCH_QUICK === '1' || process.argv.includes('--quick');
const ENGINES = (process.env.BENCH_ENGINES ?? 'postgres,sqlite').split(',');
const SECONDS = QUICK ? 4 : 8;
const listed = (name: string) => (process.env[name] ?? '').split(',').filter(Boolean).map(Number);
const CONNECTIONS =
  listed('BENCH_CONNECTION_LEVELS').length > 0 ? listed('BENCH_CONNECTION_LEVELS') : [1, 4, 16, 64];
const INSTANCES = listed('BENCH_INSTANCES').length > 0 ? listed('BENCH_INSTANCES') : [1, 2];
/**
 * Users seeded per database, each with TOTP and 10 recovery codes, shared by the runs at every
 * concurrency: the flow load signs each in at most once per 30-second TOTP step, the verify load spends
 * their codes; a load stops early when its users or codes run out (its rate is over the time it ran).
 */
// Enough for the rates an idle 2-core machine reaches (SQLite: about 1,400 verifications/s): with 500 users
// the 2026-12-03 run replayed TOTP steps and used codes (docs/benchmarks.md).
const USERS = Number(process.env.BENCH_USERS_PER_DATABASE ?? (QUICK ? 3000 : 6000));
const PASSWORD = 'correct horse battery staple';
const WARM_UP_CONNECTIONS = 4;
const WARM_UP_SECONDS = 2;

interface Row {
  engine: string;
  instances: number;
  connections: number;
  verifyPerSecond: number;
  verifyCpuMs: number;
  flowsPerSecond: number;
  flowCpuMs: number;
  failed: number;
  failures: Record<string, number>;
  commitsPerSecond: number;
  lagP50Ms: number;
  lagP99Ms: number;
  peakRssMiB: number;
}

async function withDatabase<T>(
  env: Record<string, string>,
  work: (deps: ServiceDeps, opened: OpenedStore) => Promise<T>,
): Promise<T> {
  const loaded = loadConfig({ ...env, PORT: '0' });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const opened = await openStore(loaded.config.database);
  try {
    return await work(createServiceDeps(loaded.config, opened.store), opened);
  } finally {
    await opened.close();
  }
}

/**
 * Users with TOTP on (confirmed with the current step's code; a flow sends the next step's, never a
 * replay) and their 10 recovery codes.
 */
async function seedUsers(deps: ServiceDeps, users: number, label: string): Promise<SeededUser[]> {
  const seeded: SeededUser[] = [];
  let next = 0;
  const worker = async () => {
    while (next < users) {
      const email = `${label}-${next++}-${deps.random.uuid().slice(0, 8)}@bench.test`;
      const created = await createUser(deps, { email, password: PASSWORD, context: {} });
      if (!created.ok) throw new Error(created.error);
      const { userId } = created.value;
      const enrollment = await enrollTotp(deps, { userId, context: {} });
      if (!enrollment.ok) throw new Error(enrollment.error);
      const totpSecret = enrollment.value.secret;
      const code = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(totpSecret) }).generate();
      const confirmed = await confirmTotp(deps, {
        userId,
        factorId: enrollment.value.factorId,
        code,
        context: {},
      });
      if (!confirmed.ok || !confirmed.value.recoveryCodes) throw new Error('could not confirm TOTP');
      seeded.push({
        userId,
        email,
        password: PASSWORD,
        totpSecret,
        recoveryCodes: confirmed.value.recoveryCodes.codes,
        lastFlowStep: 0,
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return seeded;
}

/** Bare INSERT + COMMIT transactions at `connections` concurrency for SECONDS: the database's limit. */
async function commitRate(engine: string, env: Record<string, string>, connections: number): Promise<number> {
  const deadline = performance.now() + SECONDS * 1000;
  let commits = 0;
  if (engine === 'postgres') {
    const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: connections });
    await pool.query('create table if not exists bench_commit (id bigserial primary key, v integer)');
    const worker = async () => {
      while (performance.now() < deadline) {
        const client = await pool.connect();
        try {
          await client.query('begin');
          await client.query('insert into bench_commit (v) values (1)');
          await client.query('commit');
          commits++;
        } finally {
          client.release();
        }
      }
    };
    await Promise.all(Array.from({ length: connections }, worker));
    await pool.query('drop table bench_commit');
    await pool.end();
    return commits / SECONDS;
  }
  const db = new Database(join(env.SPAREKEY_DATA_DIR as string, 'bench-commit.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('create table if not exists bench_commit (id integer primary key, v integer)');
  const insert = db.prepare('insert into bench_commit (v) values (1)');
  while (performance.now() < deadline) {
    db.exec('begin immediate');
    insert.run();
    db.exec('commit');
    commits++;
  }
  db.close();
  return commits / SECONDS;
}

/** Waits for the sealer, then the lag (sealed_at - at) of the events since `sinceMs`, sorted. */
async function sealingLags(opened: OpenedStore, sinceMs: number): Promise<number[]> {
  for (let i = 0; i < 400 && (await opened.store.getAuditSealingState()).unsealed > 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 25));
  const { rows } = await sql<{ lag: number | string }>`select sealed_at - at as lag from audit_events
    where at >= ${sinceMs} and sealed_at is not null order by sealed_at - at`.execute(opened.db);
  return rows.map((row) => Number(row.lag));
}

async function startServers(count: number, env: Record<string, string>): Promise<ServerProcess[]> {
  const servers: ServerProcess[] = [];
  for (let i = 0; i < count; i++)
    servers.push(await startServer('dist/main.js', await freePort(), env, '/readyz'));
  return servers;
}

async function benchEngine(engine: string): Promise<Row[]> {
  const rows: Row[] = [];
  const commits = new Map<number, number>();
  for (const instanceCount of INSTANCES) {
    const { env, cleanup } = await benchServerDatabase(engine, 'audit', { SPAREKEY_TRUST_PROXY: 'on' });
    let servers: ServerProcess[] = [];
    try {
      servers = await startServers(instanceCount, env);
      const apiKey = await withDatabase(env, async (deps) => {
        await updateRecoveryCodeSettings(deps, { enabled: true }, {});
        const key = await createApiKey(deps, {
          name: 'bench',
          scopes: ['recovery_codes:write'],
          context: {},
        });
        if (!key.ok) throw new Error(key.error);
        return key.value.key;
      });
      const seedingStarted = performance.now();
      const pool = new SeededPool(
        await withDatabase(env, (deps) => seedUsers(deps, USERS, `${engine}-${instanceCount}`)),
      );
      console.error(`seeded ${USERS} users in ${((performance.now() - seedingStarted) / 1000).toFixed(0)} s`);
      // Both loads once, unmeasured, at a middle concurrency: the first measured load then meets servers
      // whose code is already compiled, as every later one does (the first used to run on a cold server).
      await verifyLoad(servers, apiKey, pool, WARM_UP_CONNECTIONS, WARM_UP_SECONDS);
      await flowLoad(servers, pool, WARM_UP_CONNECTIONS, WARM_UP_SECONDS);
      for (const connections of CONNECTIONS) {
        const sinceMs = Date.now();
        const verify = await verifyLoad(servers, apiKey, pool, connections, SECONDS);
        const flows = await flowLoad(servers, pool, connections, SECONDS);
        const lags = await withDatabase(env, (_deps, opened) => sealingLags(opened, sinceMs));
        const at = (p: number) =>
          lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))] ?? Number.NaN;
        if (!commits.has(connections)) commits.set(connections, await commitRate(engine, env, connections));
        rows.push({
          engine,
          instances: instanceCount,
          connections,
          verifyPerSecond: verify.perSecond,
          verifyCpuMs: verify.cpuMsEach,
          flowsPerSecond: flows.perSecond,
          flowCpuMs: flows.cpuMsEach,
          failed: verify.failed + flows.failed,
          failures: { ...verify.failures, ...flows.failures },
          commitsPerSecond: commits.get(connections) as number,
          lagP50Ms: at(50),
          lagP99Ms: at(99),
          peakRssMiB: Math.max(...servers.map((server) => server.peakRssMiB())),
        });
        console.log(JSON.stringify(rows.at(-1)));
      }
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
      await cleanup();
    }
  }
  return rows;
}

buildServer();
const rows: Row[] = [];
for (const engine of ENGINES) rows.push(...(await benchEngine(engine)));
console.log(
  `\nAudited actions at scale (KDF at its minimum; autocannon on 127.0.0.1, ${SECONDS} s per load after a ${WARM_UP_SECONDS}-s warm-up of each; servers, database and load generator share the machine)\n`,
);
console.log(
  '| engine | instances | connections | database commit rate | verify-recovery-code | verify / commits | server CPU per verify | sign-in + TOTP | flows / commits | server CPU per flow | failed | sealing lag p50 / p99 | peak RSS |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const row of rows) {
  const ratio = (value: number) => (value / row.commitsPerSecond).toFixed(2);
  console.log(
    `| ${row.engine} | ${row.instances} | ${row.connections} | ${row.commitsPerSecond.toFixed(0)} /s | ${row.verifyPerSecond.toFixed(0)} req/s | ${ratio(row.verifyPerSecond)} | ${row.verifyCpuMs.toFixed(1)} ms | ${row.flowsPerSecond.toFixed(0)} flows/s | ${ratio(row.flowsPerSecond)} | ${row.flowCpuMs.toFixed(1)} ms | ${failedText(row)} | ${row.lagP50Ms.toFixed(0)} / ${row.lagP99Ms.toFixed(0)} ms | ${row.peakRssMiB.toFixed(0)} MiB |`,
  );
}
process.exitCode = rows.some((row) => row.failed > 0) ? 1 : 0;

/** `0`, or how many failed and as what: `374 (flow 401: 374)`. */
function failedText(row: Row): string {
  if (row.failed === 0) return '0';
  const kinds = Object.entries(row.failures).map(([kind, count]) => `${kind}: ${count}`);
  return `${row.failed} (${kinds.join(', ')})`;
}
