/**
 * Issue 25: audited actions scale with connections and instances (decision 0007). For each engine, with
 * 1 and 2 SpareKey server processes (`src/main.ts`) on one database and autocannon at 1, 4, 16 and 64
 * connections (split between the processes):
 *   - POST verify-recovery-code, every request a different code (consumed, audited), in requests/s;
 *   - beside it, the database's own commit rate at the same concurrency: a bare single-row INSERT + COMMIT
 *     (PostgreSQL: a pool of that size; SQLite: one connection with WAL and synchronous=FULL, as each
 *     server process has, since SQLite commits one writer at a time whatever the concurrency);
 *   - the sealing lag of the run's events (sealed_at - at): p50 and p99;
 *   - the servers' peak resident memory (VmHWM), the larger of the two.
 *
 *   npm run bench:audit                  # both engines, 5 s per run
 *   BENCH_QUICK=1 npm run bench:audit    # 2 s per run
 *   BENCH_ENGINES=postgres               # one engine
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
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
import { benchServerDatabase } from './support/server-database.js';
import { freePort, type ServerProcess, startServer } from './support/server-process.js';

const QUICK = process.env.BENCH_QUICK === '1' || process.argv.includes('--quick');
const ENGINES = (process.env.BENCH_ENGINES ?? 'postgres,sqlite').split(',');
const SECONDS = QUICK ? 2 : 5;
/** BENCH_CONNECTION_LEVELS=16,64 runs only those. */
const CONNECTION_LEVELS = (process.env.BENCH_CONNECTION_LEVELS ?? '').split(',').filter(Boolean).map(Number);
const CONNECTIONS = CONNECTION_LEVELS.length > 0 ? CONNECTION_LEVELS : [1, 4, 16, 64];
const INSTANCES = [1, 2];
/** Users with 10 codes each seeded per run; a run also stops when its codes are spent. */
const USERS_PER_RUN = QUICK ? 60 : 300;
const PASSWORD = 'correct horse battery staple';
/**
 * BENCH_SPREAD_ADDRESSES=1: each request from its own X-Forwarded-For address (the servers trust the
 * proxy header), so the per-address throttle counter is not one row shared by the whole load.
 */
const SPREAD_ADDRESSES = process.env.BENCH_SPREAD_ADDRESSES === '1';

interface Row {
  engine: string;
  instances: number;
  connections: number;
  verifyPerSecond: number;
  failed: number;
  commitsPerSecond: number;
  lagP50Ms: number;
  lagP99Ms: number;
  peakRssMiB: number;
}

function databaseEnv(engine: string) {
  return benchServerDatabase(engine, 'audit', SPREAD_ADDRESSES ? { SPAREKEY_TRUST_PROXY: 'on' } : {});
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

/** Users with TOTP on and their 10 recovery codes; the codes interleaved so consecutive spends differ in user. */
async function seedSpends(deps: ServiceDeps, users: number, label: string) {
  const sets: { userId: string; codes: readonly string[] }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < users) {
      const email = `${label}-${next++}-${deps.random.uuid().slice(0, 8)}@bench.test`;
      const created = await createUser(deps, { email, password: PASSWORD, context: {} });
      if (!created.ok) throw new Error(created.error);
      const { userId } = created.value;
      const enrollment = await enrollTotp(deps, { userId, context: {} });
      if (!enrollment.ok) throw new Error(enrollment.error);
      const code = new OTPAuth.TOTP({
        secret: OTPAuth.Secret.fromBase32(enrollment.value.secret),
      }).generate();
      const confirmed = await confirmTotp(deps, {
        userId,
        factorId: enrollment.value.factorId,
        code,
        context: {},
      });
      if (!confirmed.ok || !confirmed.value.recoveryCodes) throw new Error('could not confirm TOTP');
      sets.push({ userId, codes: confirmed.value.recoveryCodes.codes });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return Array.from({ length: 10 }, (_, slot) =>
    sets.map((set) => ({ userId: set.userId, code: set.codes[slot] as string })),
  ).flat();
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

async function verifyLoad(
  servers: ServerProcess[],
  apiKey: string,
  spends: { userId: string; code: string }[],
  connections: number,
) {
  let next = 0;
  let responses = 0;
  let failed = 0;
  const started = performance.now();
  let last = started;
  const instances = servers.map((server, index) => {
    const share = Math.floor(connections / servers.length) + (index < connections % servers.length ? 1 : 0);
    if (share === 0) return Promise.resolve();
    const instance = autocannon({
      url: server.url,
      connections: share,
      duration: SECONDS,
      requests: [
        {
          method: 'POST',
          setupRequest: (request) => {
            const spend = spends[next++ % spends.length] as { userId: string; code: string };
            return {
              ...request,
              path: `/api/v1/users/${spend.userId}/recovery-codes/verify`,
              headers: {
                'content-type': 'application/json',
                authorization: `Bearer ${apiKey}`,
                ...(SPREAD_ADDRESSES
                  ? { 'x-forwarded-for': `10.${(next >> 16) & 255}.${(next >> 8) & 255}.${next & 255}` }
                  : {}),
              },
              body: JSON.stringify({ code: spend.code }),
            };
          },
        },
      ],
    }) as unknown as autocannon.Instance & Promise<autocannon.Result>;
    instance.on('response', (_client, status) => {
      responses++;
      if (status !== 200) failed++;
      last = performance.now();
      // Never reuse a code: stop with a spare one per connection.
      if (next >= spends.length - connections) instance.stop();
    });
    return instance;
  });
  await Promise.all(instances);
  return { verifyPerSecond: responses / ((last - started) / 1000), failed };
}

/** Waits for the sealer, then the lag (sealed_at - at) of the events since `sinceMs`, sorted. */
async function sealingLags(opened: OpenedStore, sinceMs: number): Promise<number[]> {
  for (let i = 0; i < 400 && (await opened.store.getAuditSealingState()).unsealed > 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 25));
  const { rows } = await sql<{ lag: number | string }>`select sealed_at - at as lag from audit_events
    where at >= ${sinceMs} and sealed_at is not null order by sealed_at - at`.execute(opened.db);
  return rows.map((row) => Number(row.lag));
}

async function benchEngine(engine: string): Promise<Row[]> {
  const rows: Row[] = [];
  const commits = new Map<number, number>();
  for (const instanceCount of INSTANCES) {
    const { env, cleanup } = await databaseEnv(engine);
    const servers: ServerProcess[] = [];
    try {
      servers.push(await startServer('src/main.ts', await freePort(), env, '/readyz'));
      for (let i = 1; i < instanceCount; i++)
        servers.push(await startServer('src/main.ts', await freePort(), env, '/readyz'));
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
      for (const connections of CONNECTIONS) {
        const label = `${engine}-${instanceCount}-${connections}`;
        const spends = await withDatabase(env, (deps) => seedSpends(deps, USERS_PER_RUN, label));
        const sinceMs = Date.now();
        const load = await verifyLoad(servers, apiKey, spends, connections);
        const lags = await withDatabase(env, (_deps, opened) => sealingLags(opened, sinceMs));
        const at = (p: number) =>
          lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))] ?? Number.NaN;
        if (!commits.has(connections)) commits.set(connections, await commitRate(engine, env, connections));
        rows.push({
          engine,
          instances: instanceCount,
          connections,
          ...load,
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

const rows: Row[] = [];
for (const engine of ENGINES) rows.push(...(await benchEngine(engine)));
console.log(
  `\nAudited actions at scale (KDF at its minimum; autocannon on 127.0.0.1, ${SECONDS} s per run; servers, database and load generator share the machine)\n`,
);
console.log(
  '| engine | instances | connections | verify-recovery-code | database commit rate | verify / commits | failed | sealing lag p50 / p99 | peak RSS |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const row of rows) {
  console.log(
    `| ${row.engine} | ${row.instances} | ${row.connections} | ${row.verifyPerSecond.toFixed(0)} req/s | ${row.commitsPerSecond.toFixed(0)} /s | ${(row.verifyPerSecond / row.commitsPerSecond).toFixed(2)} | ${row.failed} | ${row.lagP50Ms.toFixed(0)} / ${row.lagP99Ms.toFixed(0)} ms | ${row.peakRssMiB.toFixed(0)} MiB |`,
  );
}
process.exitCode = rows.some((row) => row.failed > 0) ? 1 : 0;
