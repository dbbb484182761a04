/**
 * Issue 25, one process: what one verify-recovery-code costs on PostgreSQL (or SQLite), in statements,
 * transactions and CPU. Builds the server in this process (no listening: Fastify's inject, so no HTTP
 * parsing or sockets of the load generator are counted) with its audit sealer running, seeds users with
 * codes and a backend API key, then verifies every code once at BENCH_CONCURRENCY (default 16) and prints
 * the statements per verify (by kind, the sealer's included), the transactions per verify, the process's
 * CPU (user + system) per verify and, on PostgreSQL at 127.0.0.1, the database's: the CPU its backends
 * serving this process's connections used (from /proc, so only on the database's machine).
 *
 *   npx tsx bench/verify-statements.ts                       # PostgreSQL, 100 users x 10 codes
 *   BENCH_ENGINES=sqlite BENCH_USERS=50 npx tsx bench/verify-statements.ts
 *   BENCH_PROFILE=/tmp/verify.cpuprofile ...                # a CPU profile of the measured part only
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import * as OTPAuth from 'otpauth';
import pg from 'pg';
import { buildServer } from '../src/build-server.js';
import { createServiceDeps } from '../src/compose.js';
import { loadConfig } from '../src/config/load-config.js';
import { createUser } from '../src/service/accounts/accounts.js';
import { createApiKey } from '../src/service/admin/api-keys.js';
import { updateRecoveryCodeSettings } from '../src/service/admin/settings.js';
import { confirmTotp } from '../src/service/factors/confirm-totp.js';
import { enrollTotp } from '../src/service/factors/enroll-totp.js';
import { openStore } from '../src/store/open-store.js';
import { benchServerDatabase } from './support/server-database.js';

const ENGINE = process.env.BENCH_ENGINES ?? 'postgres';
const USERS = Number(process.env.BENCH_USERS ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

/** Every statement the pg driver sends, by its first words (SQLite: not counted). */
const statements = new Map<string, number>();
let counting = false;
/** The server processes (backends) behind this process's connections, by pid. */
const backends = new Set<number>();
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const backend = (this as unknown as { processID?: number }).processID;
  if (backend) backends.add(backend);
  if (counting) {
    const first = args[0] as string | { text: string };
    const text = typeof first === 'string' ? first : first.text;
    const kind = text.replace(/\s+/g, ' ').trim().slice(0, 60);
    statements.set(kind, (statements.get(kind) ?? 0) + 1);
  }
  // biome-ignore lint/suspicious/noExplicitAny: forwarding the driver's overloads as they are
  return (query as any).apply(this, args);
} as typeof query;

/** CPU seconds (user + system) the backends used so far; those gone since are not counted. */
function backendsCpuSeconds(): number {
  let ticks = 0;
  for (const pid of backends) {
    try {
      // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Not on this machine, or gone.
    }
  }
  return ticks / 100; // USER_HZ, 100 on Linux
}

const { env, cleanup } = await benchServerDatabase(ENGINE, 'stmts');
try {
  const loaded = loadConfig({ ...env, PORT: '0' });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const opened = await openStore(loaded.config.database);
  const deps = createServiceDeps(loaded.config, opened.store);
  await updateRecoveryCodeSettings(deps, { enabled: true }, {});
  const key = await createApiKey(deps, { name: 'bench', scopes: ['recovery_codes:write'], context: {} });
  if (!key.ok) throw new Error(key.error);
  const spends: { userId: string; code: string }[] = [];
  for (let i = 0; i < USERS; i++) {
    const created = await createUser(deps, {
      email: `u${i}-${deps.random.uuid().slice(0, 8)}@bench.test`,
      password: 'correct horse battery staple',
      context: {},
    });
    if (!created.ok) throw new Error(created.error);
    const { userId } = created.value;
    const enrollment = await enrollTotp(deps, { userId, context: {} });
    if (!enrollment.ok) throw new Error(enrollment.error);
    const secret = OTPAuth.Secret.fromBase32(enrollment.value.secret);
    const confirmed = await confirmTotp(deps, {
      userId,
      factorId: enrollment.value.factorId,
      code: new OTPAuth.TOTP({ secret }).generate(),
      context: {},
    });
    if (!confirmed.ok || !confirmed.value.recoveryCodes) throw new Error('could not confirm TOTP');
    const codes = confirmed.value.recoveryCodes;
    for (const code of codes.codes) spends.push({ userId, code });
  }
  // Slot by slot, so consecutive verifications are different users' (as the scale bench spends them).
  spends.sort((a, b) => a.code.localeCompare(b.code));
  const app = await buildServer({ deps, auditSealer: true, webhookWorker: false, purgeWorker: false });
  await app.ready();
  const verify = async (spend: { userId: string; code: string }) => {
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${spend.userId}/recovery-codes/verify`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key.value.key}` },
      payload: JSON.stringify({ code: spend.code }),
    });
    if (response.statusCode !== 200) throw new Error(`${response.statusCode} ${response.body}`);
  };
  // Warm-up: the first few compile the routes' validators and serializers and fill the pool.
  const warm = spends.splice(0, 32);
  await Promise.all(warm.map(verify));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const profiler = process.env.BENCH_PROFILE ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  counting = true;
  const databaseCpu = backendsCpuSeconds();
  const cpu = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < spends.length) await verify(spends[next++] as { userId: string; code: string });
    }),
  );
  // Let the sealer seal what the load wrote: its statements are part of each verification's cost.
  while ((await opened.store.getAuditSealingState()).unsealed > 0)
    await new Promise((resolve) => setTimeout(resolve, 20));
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const databaseUsed = backendsCpuSeconds() - databaseCpu;
  counting = false;
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(process.env.BENCH_PROFILE as string, JSON.stringify(profile));
    profiler.disconnect();
  }
  const n = spends.length;
  const total = [...statements.values()].reduce((a, b) => a + b, 0);
  const begins = [...statements].filter(([k]) => /^begin/i.test(k)).reduce((a, [, v]) => a + v, 0);
  console.log(
    `${ENGINE}: ${n} verifications at ${CONCURRENCY} concurrent, ${(n / (elapsed / 1000)).toFixed(0)} /s; CPU ${((used.user + used.system) / 1000 / n).toFixed(2)} ms per verify (user ${(used.user / 1000 / n).toFixed(2)}, system ${(used.system / 1000 / n).toFixed(2)}); ${(total / n).toFixed(2)} statements and ${(begins / n).toFixed(2)} transactions per verify (sealer included)${ENGINE === 'postgres' ? `; database CPU ${((databaseUsed * 1000) / n).toFixed(2)} ms per verify` : ''}`,
  );
  for (const [kind, count] of [...statements].sort((a, b) => b[1] - a[1]))
    console.log(`${(count / n).toFixed(2).padStart(6)}  ${kind}`);
  await app.close();
  await opened.close();
} finally {
  await cleanup();
}
