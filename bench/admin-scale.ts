/**
 * The operator console at scale: seeds USERS users with a recovery-code set each and EVENTS audit events
 * (defaults 1,000,000 and 5,000,000), then times every query the dashboard, the users list and the audit
 * log run, on SQLite and on PostgreSQL. Prints each query's median and worst of 7 runs and fails (exit 1)
 * when one is over 100 ms.
 *
 *   npm run bench:admin                      # both engines, full scale
 *   BENCH_USERS=100000 BENCH_EVENTS=500000 npm run bench:admin
 *   BENCH_ENGINES=sqlite npm run bench:admin
 *
 * Seeding writes rows with SQL directly (sets without their code rows, events without a valid hash
 * chain): the timed queries read neither, and building a million argon2id digests would take hours.
 * The maintained counters are rebuilt from the seeded rows exactly as migration 0003 builds them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import pg from 'pg';
import { argon2idKdf, MINIMUM_TEST_ARGON2ID_PARAMS } from '../src/core/recovery-code-digest.js';
import { deriveServerKeys } from '../src/core/server-keys.js';
import { DEFAULT_TOTP_SETTINGS } from '../src/core/totp.js';
import { fetchOutboundHttp } from '../src/outbound/fetch-outbound-http.js';
import { updateRecoveryCodeSettings } from '../src/service/admin/settings.js';
import { getRecoveryCodeStatistics } from '../src/service/admin/statistics.js';
import { exportAuditEvents } from '../src/service/audit/audit-log.js';
import type { ServiceDeps } from '../src/service/deps.js';
import { systemRandom } from '../src/service/ports/system-random.js';
import { generateRecoveryCodes } from '../src/service/recovery-codes/generate-recovery-codes.js';
import { getRecoveryCodeStatus } from '../src/service/recovery-codes/recovery-code-status.js';
import { verifyRecoveryCode } from '../src/service/recovery-codes/verify-recovery-code.js';
import { backendAuthority } from '../src/service/sign-in/change-authority.js';
import { type OpenedStore, openStore } from '../src/store/open-store.js';

const USERS = Number(process.env.BENCH_USERS ?? 1_000_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 5_000_000);
const ENGINES = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',');
const PG_URL = process.env.SPAREKEY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sparekey_test';
const LIMIT_MS = 100;
const SAMPLE_USERS = 40;
const RUNS = 7;
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const DAY = 24 * 3600_000;

const actions = [
  'sign_in',
  'recovery_code_used',
  'recovery_code_failed',
  'totp_verified',
  'sign_in_failed',
  'email_otp_sent',
];

const BATCH = 10_000;

/**
 * A progress bar on stderr, redrawn in place on a terminal; into a file or pipe, one line per tenth instead
 * of a carriage-return-separated stream.
 */
function progress(label: string, done: number, total: number, started: number, step: number): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const line = `  ${label.padEnd(12)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done.toLocaleString('en').padStart(10)} / ${total.toLocaleString('en')}  ${seconds} s`;
  if (process.stderr.isTTY) {
    process.stderr.write(`\r${line}${done === total ? '\n' : ''}`);
    return;
  }
  const tenth = Math.ceil(total / 10);
  if (done === total || Math.floor(done / tenth) > Math.floor((done - step) / tenth))
    process.stderr.write(`${line}\n`);
}

/**
 * Streams rows in batches of BATCH, each batch one INSERT ... SELECT over a generated range in its own
 * statement, so memory stays flat and the progress bar moves. Each of a user's 10 codes is a row, with a
 * digest of the real length.
 */
async function seed(opened: OpenedStore, engine: string): Promise<void> {
  const db = opened.db;
  const started = performance.now();
  const pgRange = (from: number, to: number) =>
    sql`generate_series(cast(${from} as integer), cast(${to} as integer)) as g(i)`;
  const id = (prefix: string, expression = sql`i`) =>
    engine === 'postgres'
      ? sql`cast(${prefix} as text) || lpad((${expression})::text, 8, '0')`
      : sql`printf(${`${prefix}%08d`}, ${expression})`;
  const range = (from: number, to: number) =>
    engine === 'postgres'
      ? pgRange(from, to)
      : sql`(with recursive n(i) as (select ${from} union all select i + 1 from n where i < ${to}) select i from n)`;
  const digest = `$v1$argon2id$m=19456,t=2,p=1$${'A'.repeat(22)}$${'B'.repeat(43)}`;
  const action =
    engine === 'postgres'
      ? sql`(array[${sql.join(actions.map((a) => sql`${a}`))}])[1 + i % ${actions.length}]`
      : sql`case i % ${actions.length} ${sql.join(
          actions.map((a, index) => sql`when ${index} then ${a}`),
          sql` `,
        )} end`;
  const hash = (expression: ReturnType<typeof sql>) =>
    engine === 'postgres' ? sql`md5((${expression})::text)` : sql`hex(${expression})`;

  for (let from = 1; from <= USERS; from += BATCH) {
    const to = Math.min(USERS, from + BATCH - 1);
    await sql`insert into users (id, email, email_normalized, password_hash, created_at)
      select ${id('u')}, ${id('user')} || '@example.test', ${id('user')} || '@example.test', null, cast(${NOW - 400 * DAY} as bigint)
      from ${range(from, to)}`.execute(db);
    await sql`insert into user_roles (user_id, role) select ${id('u')}, 'subscriber' from ${range(from, to)}`.execute(
      db,
    );
    await sql`insert into recovery_code_sets (id, user_id, generated_at, total, remaining, last_used_at)
      select ${id('s')}, ${id('u')}, cast(${NOW - 200 * DAY} as bigint), 10, i % 11, null from ${range(from, to)}`.execute(
      db,
    );
    // Slots 0..9 per set; the first (10 - remaining) are used.
    await sql`insert into recovery_codes (set_id, slot, digest, used_at)
      select ${id('s', sql`i / 10`)}, i % 10, ${digest}, case when i % 10 < 10 - (i / 10) % 11 then cast(${NOW - 100 * DAY} as bigint) else null end
      from ${range(from * 10, to * 10 + 9)}`.execute(db);
    progress('users', to, USERS, started, BATCH);
  }
  const eventsStarted = performance.now();
  const spacing = Math.floor((365 * DAY) / EVENTS);
  for (let from = 1; from <= EVENTS; from += BATCH * 10) {
    const to = Math.min(EVENTS, from + BATCH * 10 - 1);
    // Seeded as sealed (chain place = seq), as an older log would be: the sealer has nothing to do.
    await sql`insert into audit_events (seq, at, action, outcome, user_id, actor_id, ip, user_agent, details, chain_seq, prev_hash, hash, sealed_at)
      select i, cast(${NOW} as bigint) - ((cast(${EVENTS} as bigint) - i) * cast(${spacing} as bigint)), ${action}, 'success', ${id('u', sql`1 + i % ${USERS}`)},
             null, '192.0.2.1', 'bench', '{}', i, ${hash(sql`i`)}, ${hash(sql`i + 1`)}, cast(${NOW} as bigint)
      from ${range(from, to)}`.execute(db);
    progress('audit events', to, EVENTS, eventsStarted, BATCH * 10);
  }
  await sql`update audit_chain_head set last_seq = ${EVENTS}`.execute(db);
  if (engine === 'postgres') {
    // Events appended later are numbered after the seeded ones.
    await sql`select setval(pg_get_serial_sequence('audit_events', 'seq'), ${EVENTS})`.execute(db);
  }
  // The counters, rebuilt as migration 0003 builds them.
  await sql`delete from recovery_code_set_counts`.execute(db);
  await sql`insert into recovery_code_set_counts (remaining, sets) select remaining, count(*) from recovery_code_sets group by remaining`.execute(
    db,
  );
  await sql`delete from audit_counts`.execute(db);
  await sql`insert into audit_counts (bucket_start, action, events)
    select at - (at % 900000), action, count(*) from audit_events group by at - (at % 900000), action`.execute(
    db,
  );
  if (engine === 'postgres') await sql`analyze`.execute(db);
  else await sql`analyze`.execute(db);
  console.log(
    `  seeded ${USERS.toLocaleString('en')} users with sets and ${EVENTS.toLocaleString('en')} audit events in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

function depsFor(opened: OpenedStore): ServiceDeps {
  return {
    store: opened.store,
    clock: { now: () => new Date(NOW) },
    random: systemRandom,
    kdf: argon2idKdf,
    keys: deriveServerKeys(new Uint8Array(32).fill(1)),
    mailer: { send: async () => undefined },
    outboundHttp: fetchOutboundHttp,
    options: {
      kdfParams: MINIMUM_TEST_ARGON2ID_PARAMS,
      issuer: 'bench',
      totp: DEFAULT_TOTP_SETTINGS,
      emailOtp: { enabled: false, ttlMs: 600_000, digits: 6, maxAttempts: 5 },
      password: { params: MINIMUM_TEST_ARGON2ID_PARAMS, commonPasswords: new Set() },
      notifications: false,
      timeZone: 'Europe/Paris',
    },
  };
}

async function time(
  label: string,
  run: () => Promise<unknown>,
): Promise<{ label: string; median: number; worst: number }> {
  await run(); // warm the caches once, as a running server has them warm
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { label, median: samples[Math.floor(RUNS / 2)] as number, worst: samples[RUNS - 1] as number };
}

/** Milliseconds at the given quantile of sorted samples. */
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/**
 * The end user's operations at this size: real sets (real digests, KDF at its minimum cost so the figure
 * shows the database, not the hash) for a few users added to the million, then p50/p99 of verifying a
 * valid code (consumed, audited), reading the status ("K of N left"), and the administrator's statistics.
 */
async function userLatencies(deps: ServiceDeps): Promise<string[]> {
  const updated = await updateRecoveryCodeSettings(deps, { enabled: true, codesPerSet: 10 }, {});
  if (!updated.ok) throw new Error(updated.problems?.join('; '));
  const spends: { userId: string; code: string }[] = [];
  for (let i = 0; i < SAMPLE_USERS; i++) {
    const userId = `sample-${i}`;
    await deps.store.createUser({
      id: userId,
      email: `sample${i}@example.test`,
      passwordHash: null,
      roles: ['subscriber'],
      createdAt: new Date(NOW),
    });
    await deps.store.createFactor({
      id: `factor-${i}`,
      userId,
      kind: 'email',
      secretCiphertext: null,
      createdAt: new Date(NOW),
    });
    await deps.store.confirmFactor(userId, `factor-${i}`, new Date(NOW));
    const set = await generateRecoveryCodes(deps, {
      userId,
      authority: backendAuthority({ kind: 'library', actorId: 'bench' }),
      context: {},
    });
    if (!set.ok) throw new Error(set.error);
    for (const code of set.value.codes) spends.push({ userId, code });
  }
  const measure = async (count: number, run: (i: number) => Promise<unknown>) => {
    await run(-1);
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await run(i);
      samples.push(performance.now() - started);
    }
    return samples.sort((a, b) => a - b);
  };
  // Round-robin over the sample users, each attempt a valid, unused code.
  const order = spends.map(
    (_, i) => spends[(i % SAMPLE_USERS) * 10 + Math.floor(i / SAMPLE_USERS)] as (typeof spends)[number],
  );
  const verify = await measure(order.length - 1, async (i) => {
    const spend = order[i + 1] as (typeof spends)[number];
    const result = await verifyRecoveryCode(deps, { ...spend, context: {} });
    if (!result.ok) throw new Error(`valid code refused: ${result.error}`);
  });
  const status = await measure(1000, (i) =>
    getRecoveryCodeStatus(deps, { userId: `u${String(1 + (((i + 1) * 7919) % USERS)).padStart(8, '0')}` }),
  );
  const statistics = await measure(50, () => getRecoveryCodeStatistics(deps));
  const line = (label: string, samples: number[]) =>
    `  ${label.padEnd(52)} p50 ${quantile(samples, 0.5).toFixed(2).padStart(7)} ms   p99 ${quantile(samples, 0.99).toFixed(2).padStart(7)} ms   (${samples.length} runs)`;
  return [
    line('verify a valid code (consumed, audited; minimum KDF)', verify),
    line("status: a user's codes left", status),
    line('admin statistics (dashboard)', statistics),
  ];
}

async function benchEngine(engine: string): Promise<boolean> {
  console.log(`\n${engine}`);
  let opened: OpenedStore;
  let cleanup: () => Promise<void>;
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sparekey-bench-'));
    opened = await openStore({ kind: 'sqlite', path: join(dir, 'bench.db') });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const schema = `bench_${Date.now()}`;
    opened = await openStore({ kind: 'postgres', url: PG_URL, schema, poolSize: 4 });
    cleanup = async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
    };
  }
  try {
    await seed(opened, engine);
    const deps = depsFor(opened);
    const { store } = opened;
    const userId = 'u00500000';
    const results = [
      await time('dashboard: every statistic and the 30-day chart', () => getRecoveryCodeStatistics(deps)),
      await time('users with codes: first page of 50', () => store.listUsersWithCodes({ limit: 51 })),
      await time('users with codes: a page deep in the list', () =>
        store.listUsersWithCodes({
          after: { email: 'user00900000@example.test', id: 'u00900000' },
          limit: 51,
        }),
      ),
      await time('users with codes: email prefix search', () =>
        store.listUsersWithCodes({ emailPrefix: 'user0077', limit: 51 }),
      ),
      await time('audit log: newest 50', () => store.listAuditEvents({ limit: 51 })),
      await time('audit log: one user', () => store.listAuditEvents({ userId, limit: 51 })),
      await time('audit log: one event type', () =>
        store.listAuditEvents({ action: 'recovery_code_failed', limit: 51 }),
      ),
      await time('audit log: a time range, one page back', () =>
        store.listAuditEvents({
          since: new Date(NOW - 200 * DAY),
          until: new Date(NOW - 199 * DAY),
          limit: 51,
        }),
      ),
    ];
    let ok = true;
    // The export streams page by page: the heap stays flat however many rows go out.
    const exportStarted = performance.now();
    const heapBefore = process.memoryUsage().heapUsed;
    let peakHeap = heapBefore;
    let exportedBytes = 0;
    let chunks = 0;
    for await (const chunk of exportAuditEvents(store, 'jsonl')) {
      exportedBytes += chunk.length;
      chunks += 1;
      if (chunks % 200 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }
    const exportSeconds = (performance.now() - exportStarted) / 1000;
    const growthMb = (peakHeap - heapBefore) / 2 ** 20;
    const exportOk = growthMb < 64;
    ok &&= exportOk;
    console.log(
      `  ${exportOk ? 'ok  ' : 'HEAP'} export of all ${EVENTS.toLocaleString('en')} events as JSON Lines: ${(exportedBytes / 2 ** 20).toFixed(0)} MiB in ${exportSeconds.toFixed(1)} s, heap growth at most ${growthMb.toFixed(1)} MiB (limit 64 MiB)`,
    );
    for (const line of await userLatencies(deps)) console.log(line);
    for (const result of results) {
      const pass = result.worst < LIMIT_MS;
      ok &&= pass;
      console.log(
        `  ${pass ? 'ok  ' : 'SLOW'} ${result.label.padEnd(52)} median ${result.median.toFixed(2).padStart(7)} ms   worst ${result.worst.toFixed(2).padStart(7)} ms   (limit ${LIMIT_MS} ms)`,
      );
    }
    return ok;
  } finally {
    await opened.close();
    await cleanup();
  }
}

let allOk = true;
console.log(
  `Operator console at ${USERS.toLocaleString('en')} users and ${EVENTS.toLocaleString('en')} audit events`,
);
for (const engine of ENGINES) allOk = (await benchEngine(engine.trim())) && allOk;
console.log(allOk ? '\nEvery query is under 100 ms.' : '\nSome queries are over 100 ms.');
process.exitCode = allOk ? 0 : 1;
