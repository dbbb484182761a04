import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServiceDeps } from '../../src/compose.js';
import { loadConfig } from '../../src/config/load-config.js';
import { normalizeRecoveryCode, type RecoveryCodeFormat } from '../../src/core/recovery-code.js';
import { hashSessionToken } from '../../src/core/session-token.js';
import { createUser } from '../../src/service/accounts/accounts.js';
import { createApiKey } from '../../src/service/admin/api-keys.js';
import { loadRecoveryCodeSettings, updateRecoveryCodeSettings } from '../../src/service/admin/settings.js';
import { verifyAuditChain } from '../../src/service/audit/audit-log.js';
import type { ServiceDeps } from '../../src/service/deps.js';
import { confirmTotp } from '../../src/service/factors/confirm-totp.js';
import { enrollTotp } from '../../src/service/factors/enroll-totp.js';
import { accountThrottleKey } from '../../src/service/throttle/throttle-counters.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { totpCode } from '../helpers/rfc6238.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { LOOSEST_THROTTLE_ENV, storedCode } from './scale-database.js';
import { reportStressRow } from './stress-report.js';

/**
 * Issue 6.6: SIGKILL at random moments under mixed load, then restart and check that nothing acknowledged
 * was lost. `npm test` runs 3 cycles; `npm run stress` runs 20 (SPAREKEY_STRESS_CYCLES) and reports its row.
 */
const CYCLES = Number(process.env.SPAREKEY_STRESS_CYCLES ?? 3);
const SEED = Number(process.env.SPAREKEY_STRESS_SEED ?? 20261123);
const USERS = 6;
const PASSWORD = 'crash-safety-lantern-81';
/** Clients sending the mixed load at once. */
const LOADERS = 8;

interface Acknowledged {
  consumed: { userId: string; code: string; setId: string; slot: number }[];
  issued: { userId: string; setId: string }[];
  /** Each sign-in sent a user agent of its own, so its audit event can be told from the others. */
  sessions: { userId: string; token: string; userAgent: string }[];
}

const noneAcknowledged = (): Acknowledged => ({ consumed: [], issued: [], sessions: [] });

describe('crash safety on SQLite: SIGKILL under mixed load, restart, nothing acknowledged is lost', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sparekey-crash-'));
  const env: Record<string, string> = {
    SPAREKEY_DATA_DIR: dir,
    SPAREKEY_SECRET: randomBytes(32).toString('base64'),
    SPAREKEY_KDF_PROFILE: 'minimum',
    SPAREKEY_LOG_LEVEL: 'warn',
    // The load's code uses are evaluated, and a re-submitted used code is judged, not throttled.
    ...LOOSEST_THROTTLE_ENV,
  };
  let server: ServerProcess | undefined;
  let opened: OpenedStore;
  let deps: ServiceDeps;
  let apiKey: string;
  let format: RecoveryCodeFormat;
  const users: { userId: string; email: string; codes: string[]; setId: string }[] = [];
  /** Everything acknowledged in all cycles so far: every restart checks all of it again. */
  const everAcknowledged = noneAcknowledged();
  const summary = {
    attempts: 0,
    acknowledged: 0,
    doubleAccepts: 0,
    lostEvents: 0,
    serverErrors: 0,
    kills: 0,
  };
  /** Answers the load has had (any status), to place each kill within the load. */
  let answered = 0;
  /** Re-submissions of used codes answered other than "already used" (409) or "not this set's" (401). */
  const misjudged: string[] = [];

  beforeAll(async () => {
    const loaded = loadConfig(env);
    if (!loaded.ok) throw new Error(loaded.problems.join('; '));
    opened = await openStore(loaded.config.database);
    deps = createServiceDeps(loaded.config, opened.store);
    await updateRecoveryCodeSettings(deps, { enabled: true }, {});
    format = (await loadRecoveryCodeSettings(opened.store)).format;
    for (let i = 0; i < USERS; i += 1) {
      const email = `crash-${i}@example.test`;
      const user = await createUser(deps, { email, password: PASSWORD, context: {} });
      if (!user.ok) throw new Error(user.error);
      const enrollment = await enrollTotp(deps, { userId: user.value.userId, context: {} });
      if (!enrollment.ok) throw new Error(enrollment.error);
      const confirmed = await confirmTotp(deps, {
        userId: user.value.userId,
        factorId: enrollment.value.factorId,
        code: totpCode(enrollment.value.secret, { timeMs: Date.now() }),
        context: {},
      });
      if (!confirmed.ok || !confirmed.value.recoveryCodes) throw new Error('no codes');
      const { codes, setId } = confirmed.value.recoveryCodes;
      users.push({ userId: user.value.userId, email, codes, setId });
    }
    const key = await createApiKey(deps, { name: 'crash', scopes: ['admin'], context: {} });
    if (!key.ok) throw new Error(key.error);
    apiKey = key.value.key;
  }, 60_000);

  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await opened?.close();
    rmSync(dir, { recursive: true, force: true });
    reportStressRow({
      suite: `crash safety, SQLite, ${summary.kills} SIGKILL cycles (seed ${SEED})`,
      file: import.meta.url,
      attempts: summary.attempts,
      accepted: summary.acknowledged,
      acceptedLabel: 'acknowledged',
      doubleAccepts: summary.doubleAccepts,
      lostEvents: summary.lostEvents,
      serverErrors: summary.serverErrors,
    });
  });

  const call = async (path: string, body?: unknown, token = apiKey) => {
    const response = await fetch(`${server?.url}/api/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    return {
      status: response.status,
      json: (await response.json().catch(() => undefined)) as Record<string, unknown>,
    };
  };

  const slotOf = (code: string) => {
    const normalized = normalizeRecoveryCode(code, format);
    if (!normalized.ok) throw new Error(`not a code: ${code}`);
    return normalized.slot;
  };

  /** One request of the mixed load; records what a 2xx acknowledged. Connection errors (the kill) are fine. */
  async function oneRequest(pick: number, ack: Acknowledged): Promise<void> {
    const user = users[pick % USERS] as (typeof users)[number];
    summary.attempts += 1;
    try {
      const kind = pick % 3;
      if (kind === 0) {
        const code = user.codes[(pick >> 2) % user.codes.length] as string;
        const setId = user.setId;
        const { status } = await call(`/users/${user.userId}/recovery-codes/verify`, { code });
        answered += 1;
        if (status >= 500) summary.serverErrors += 1;
        if (status === 200) ack.consumed.push({ userId: user.userId, code, setId, slot: slotOf(code) });
      } else if (kind === 1) {
        const { status, json } = await call(`/users/${user.userId}/recovery-codes`);
        answered += 1;
        if (status >= 500) summary.serverErrors += 1;
        if (status === 201) {
          ack.issued.push({ userId: user.userId, setId: json.setId as string });
          user.codes = json.codes as string[];
          user.setId = json.setId as string;
        }
      } else {
        const userAgent = `crash-load/${summary.attempts}-${pick}`;
        const response = await fetch(`${server?.url}/api/v1/auth/sign-in`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': userAgent },
          body: JSON.stringify({ email: user.email, password: PASSWORD }),
        });
        answered += 1;
        if (response.status >= 500) summary.serverErrors += 1;
        if (response.status === 200) {
          const { token } = (await response.json()) as { token: string };
          ack.sessions.push({ userId: user.userId, token, userAgent });
        }
      }
    } catch {
      // Killed mid-request: not acknowledged, so nothing is owed.
    }
  }

  /** Every user has exactly one set, and the set holds all its code rows (read from the tables). */
  async function expectOneCompleteSetEach() {
    const db = opened.db;
    for (const { userId } of users) {
      const sets = await db
        .selectFrom('recovery_code_sets')
        .select(['id', 'total', 'remaining'])
        .where('user_id', '=', userId)
        .execute();
      expect(sets, 'exactly one live set').toHaveLength(1);
      const rows = await db
        .selectFrom('recovery_codes')
        .select(['slot', 'used_at'])
        .where('set_id', '=', sets[0]!.id)
        .execute();
      expect(new Set(rows.map((row) => row.slot)).size, 'a complete set').toBe(10);
      expect(rows).toHaveLength(sets[0]!.total);
      expect(rows.filter((row) => row.used_at === null)).toHaveLength(sets[0]!.remaining);
    }
  }

  /** Counts acknowledged requests whose audit event is missing, and codes the log shows used twice. */
  async function checkAuditEvents(ack: Acknowledged) {
    const events = await opened.store.listAuditEventsAscending({ limit: 1_000_000 });
    const uses = new Map<string, number>();
    for (const event of events) {
      if (event.action !== 'recovery_code_used') continue;
      const key = `${event.details.setId}/${event.details.slot}`;
      uses.set(key, (uses.get(key) ?? 0) + 1);
    }
    // A code accepted twice shows as two events, even when the second answer was cut off by the kill.
    summary.doubleAccepts += [...uses.values()].filter((count) => count > 1).length;
    for (const { setId, slot } of ack.consumed) {
      if (!uses.has(`${setId}/${slot}`)) summary.lostEvents += 1;
    }
    for (const { setId } of ack.issued) {
      const found = events.some(
        (e) =>
          (e.action === 'recovery_codes_regenerated' || e.action === 'recovery_codes_generated') &&
          e.details.setId === setId,
      );
      if (!found) summary.lostEvents += 1;
    }
    // A password step owed a second factor: it acknowledged its audit event and its session.
    for (const { userId, token, userAgent } of ack.sessions) {
      const found = events.some(
        (e) => e.action === 'password_verified' && e.userId === userId && e.userAgent === userAgent,
      );
      if (!found) summary.lostEvents += 1;
      const row = await opened.db
        .selectFrom('sessions')
        .select('id_hash')
        .where('id_hash', '=', hashSessionToken(token) as string)
        .executeTakeFirst();
      if (!row) summary.lostEvents += 1;
    }
  }

  /** Every code acknowledged as used is used in the table (or its set is gone): read, not asked. */
  async function checkUsedCodesStayUsed(ack: Acknowledged) {
    for (const { setId, slot } of ack.consumed) {
      const row = await storedCode(opened, setId, slot);
      if (row && row.used_at === null) summary.doubleAccepts += 1;
    }
  }

  /**
   * Sends every code this cycle acknowledged as used again, with the account's failure counter cleared
   * first so the throttle cannot hide the answer: a code of the live set must be judged "already used"
   * (409, which needs the code to match), one of a replaced set "invalid" (401). A 200 is a double accept.
   */
  async function resubmitUsedCodes(ack: Acknowledged) {
    for (const consumed of ack.consumed) {
      await opened.store.clearAttempts(accountThrottleKey(consumed.userId));
      const live = await opened.store.getRecoveryCodeSummary(consumed.userId);
      const again = await call(`/users/${consumed.userId}/recovery-codes/verify`, { code: consumed.code });
      if (again.status === 200) summary.doubleAccepts += 1;
      else if (again.status >= 500) summary.serverErrors += 1;
      const expected = live?.setId === consumed.setId ? 409 : 401;
      if (again.status !== expected) misjudged.push(`${consumed.setId}/${consumed.slot}: ${again.status}`);
    }
  }

  async function checkAfterRestart(ack: Acknowledged) {
    expect((await sql<{ integrity_check: string }>`pragma integrity_check`.execute(opened.db)).rows).toEqual([
      { integrity_check: 'ok' },
    ]);
    expect(await verifyAuditChain(opened.store)).toMatchObject({ ok: true });
    await expectOneCompleteSetEach();
    await checkAuditEvents(everAcknowledged);
    await checkUsedCodesStayUsed(everAcknowledged);
    await resubmitUsedCodes(ack);
    expect(misjudged).toEqual([]);
    expect(summary.doubleAccepts).toBe(0);
    expect(summary.lostEvents).toBe(0);
    expect(summary.serverErrors).toBe(0);
  }

  test(
    `${CYCLES} SIGKILLs at random moments during consumes, regenerations and sign-ins`,
    async () => {
      const random = fc.sample(fc.integer({ min: 0, max: 1_000_000 }), { seed: SEED, numRuns: CYCLES * 400 });
      let next = 0;
      for (let cycle = 0; cycle < CYCLES; cycle += 1) {
        server = await startServerProcess(env);
        const ack = noneAcknowledged();
        const load = Array.from({ length: LOADERS }, async () => {
          while (server?.child.exitCode === null && server.child.signalCode === null) {
            await oneRequest(random[next++ % random.length] as number, ack);
          }
        });
        // The moment is random, but within the load: a kill before the first answers would test nothing
        // (a fresh process on a busy machine can take a second to answer at all).
        const answeredBefore = answered;
        const deadline = Date.now() + 30_000;
        while (answered - answeredBefore < LOADERS && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        // Up to 1.5 s into the load, so a cycle holds enough acknowledged work to check.
        const killAfterMs = (random[next++ % random.length] as number) % 1500;
        await new Promise((resolve) => setTimeout(resolve, killAfterMs));
        const exited = new Promise((resolve) => server?.child.once('exit', resolve));
        server.child.kill('SIGKILL');
        summary.kills += 1;
        await exited;
        await Promise.all(load);
        summary.acknowledged += ack.consumed.length + ack.issued.length + ack.sessions.length;
        everAcknowledged.consumed.push(...ack.consumed);
        everAcknowledged.issued.push(...ack.issued);
        everAcknowledged.sessions.push(...ack.sessions);
        server = await startServerProcess(env);
        await checkAfterRestart(ack);
        server.child.kill('SIGKILL');
        await new Promise((resolve) => server?.child.once('exit', resolve));
      }
      expect(summary.acknowledged).toBeGreaterThan(0);
    },
    60_000 + CYCLES * 20_000,
  );

  test('SIGTERM drains requests in flight: every one is answered, then the process exits 0', async () => {
    server = await startServerProcess({ ...env, SPAREKEY_LOG_LEVEL: 'info' });
    const logged = (message: string) =>
      (server?.output().match(new RegExp(`"msg":"${message}"`, 'g')) ?? []).length;
    const user = users[0] as (typeof users)[number];
    const { port } = new URL(server.url);
    const body = JSON.stringify({ padding: 'x'.repeat(64) });
    // Five requests whose bodies are only half sent: received by the server, in flight, at SIGTERM.
    const requests = Array.from({ length: 5 }, () => {
      const request = httpRequest({
        host: '127.0.0.1',
        port: Number(port),
        method: 'POST',
        path: `/api/v1/users/${user.userId}/recovery-codes`,
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
          'content-length': body.length,
        },
      });
      const status = new Promise<number>((resolve, reject) => {
        request.on('response', (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on('error', reject);
      });
      request.write(body.slice(0, 10));
      return { request, status };
    });
    const deadline = Date.now() + 15_000;
    while (logged('incoming request') < 5) {
      if (Date.now() > deadline) throw new Error(`requests not received:\n${server.output().slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const exitCode = server.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // New connections are refused while the old ones finish.
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    for (const { request } of requests) request.end(body.slice(10));
    expect(await Promise.all(requests.map(({ status }) => status))).toEqual([201, 201, 201, 201, 201]);
    expect(await exitCode).toBe(0);
  });
});
