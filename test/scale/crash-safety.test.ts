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
import { hashSessionToken } from '../../src/core/session-token.js';
import { signUp } from '../../src/service/accounts.js';
import { createApiKey } from '../../src/service/admin/api-keys.js';
import { verifyAuditChain } from '../../src/service/admin/audit-log.js';
import { confirmTotp } from '../../src/service/confirm-totp.js';
import type { ServiceDeps } from '../../src/service/deps.js';
import { enrollTotp } from '../../src/service/enroll-totp.js';
import { updateRecoveryCodeSettings } from '../../src/service/settings.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { totpCode } from '../helpers/rfc6238.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

/**
 * Issue 6.6: SIGKILL at random moments under mixed load, then restart and check that nothing acknowledged
 * was lost. `npm test` runs 3 cycles; `npm run stress` runs 20 (SPAREKEY_STRESS_CYCLES) and prints the table.
 */
const CYCLES = Number(process.env.SPAREKEY_STRESS_CYCLES ?? 3);
const SEED = Number(process.env.SPAREKEY_STRESS_SEED ?? 20261123);
const USERS = 6;
const PASSWORD = 'crash-safety-lantern-81';

interface Acknowledged {
  consumed: { userId: string; code: string; setId: string }[];
  issued: { userId: string; setId: string }[];
  sessions: string[];
}

describe('crash safety on SQLite: SIGKILL under mixed load, restart, nothing acknowledged is lost', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sparekey-crash-'));
  const env: Record<string, string> = {
    SPAREKEY_DATA_DIR: dir,
    SPAREKEY_SECRET: randomBytes(32).toString('base64'),
    SPAREKEY_KDF_PROFILE: 'minimum',
    SPAREKEY_LOG_LEVEL: 'warn',
  };
  let server: ServerProcess | undefined;
  let opened: OpenedStore;
  let deps: ServiceDeps;
  let apiKey: string;
  const users: { userId: string; email: string; codes: string[]; setId: string }[] = [];
  const summary = {
    attempts: 0,
    acknowledged: 0,
    doubleAccepts: 0,
    lostEvents: 0,
    serverErrors: 0,
    kills: 0,
  };

  beforeAll(async () => {
    const loaded = loadConfig(env);
    if (!loaded.ok) throw new Error(loaded.problems.join('; '));
    opened = await openStore(loaded.config.database);
    deps = createServiceDeps(loaded.config, opened.store);
    await updateRecoveryCodeSettings(deps, { enabled: true }, {});
    for (let i = 0; i < USERS; i += 1) {
      const email = `crash-${i}@example.test`;
      const user = await signUp(deps, { email, password: PASSWORD, context: {} });
      if (!user.ok) throw new Error(user.error);
      const enrollment = await enrollTotp(deps, { userId: user.value.userId, context: {} });
      if (!enrollment.ok) throw new Error(enrollment.error);
      const confirmed = await confirmTotp(deps, {
        userId: user.value.userId,
        factorId: enrollment.value.factorId,
        code: totpCode(enrollment.value.secretBase32, { timeMs: Date.now() }),
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
    console.log(
      `\ncrash safety (SQLite, ${summary.kills} SIGKILLs, seed ${SEED})\n` +
        '| attempts | acknowledged | double-accepts | lost events | 5xx |\n|---|---|---|---|---|\n' +
        `| ${summary.attempts} | ${summary.acknowledged} | ${summary.doubleAccepts} | ${summary.lostEvents} | ${summary.serverErrors} |`,
    );
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
        if (status >= 500) summary.serverErrors += 1;
        if (status === 200) ack.consumed.push({ userId: user.userId, code, setId });
      } else if (kind === 1) {
        const { status, json } = await call(`/users/${user.userId}/recovery-codes`);
        if (status >= 500) summary.serverErrors += 1;
        if (status === 201) {
          ack.issued.push({ userId: user.userId, setId: json.setId as string });
          user.codes = json.codes as string[];
          user.setId = json.setId as string;
        }
      } else {
        const response = await fetch(`${server?.url}/api/v1/auth/sign-in`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: user.email, password: PASSWORD }),
        });
        if (response.status >= 500) summary.serverErrors += 1;
        if (response.status === 200) ack.sessions.push(((await response.json()) as { token: string }).token);
      }
    } catch {
      // Killed mid-request: not acknowledged, so nothing is owed.
    }
  }

  async function checkAfterRestart(ack: Acknowledged) {
    const db = opened.db;
    expect((await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db)).rows).toEqual([
      { integrity_check: 'ok' },
    ]);
    expect(await verifyAuditChain(opened.store)).toMatchObject({ ok: true });
    for (const { userId } of users) {
      const sets = await db
        .selectFrom('recovery_code_sets')
        .select('id')
        .where('user_id', '=', userId)
        .execute();
      expect(sets, 'exactly one live set').toHaveLength(1);
      const rows = await db
        .selectFrom('recovery_codes')
        .select('slot')
        .where('set_id', '=', sets[0]!.id)
        .execute();
      expect(rows, 'a complete set').toHaveLength(10);
    }
    const events = await opened.store.listAuditEventsAscending({ limit: 100_000 });
    for (const consumed of ack.consumed) {
      const found = events.some(
        (e) => e.action === 'recovery_code_used' && e.details.setId === consumed.setId,
      );
      if (!found) summary.lostEvents += 1;
      // Re-submitted after the restart: never accepted again.
      const again = await call(`/users/${consumed.userId}/recovery-codes/verify`, { code: consumed.code });
      if (again.status === 200) summary.doubleAccepts += 1;
    }
    for (const issued of ack.issued) {
      const found = events.some(
        (e) => e.action.startsWith('recovery_codes_') && e.details.setId === issued.setId,
      );
      if (!found) summary.lostEvents += 1;
    }
    // A password step owed a second factor: what it acknowledged is its session, which must still exist.
    for (const token of ack.sessions) {
      const idHash = hashSessionToken(token) as string;
      const row = await db
        .selectFrom('sessions')
        .select('id_hash')
        .where('id_hash', '=', idHash)
        .executeTakeFirst();
      if (!row) summary.lostEvents += 1;
    }
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
        const ack: Acknowledged = { consumed: [], issued: [], sessions: [] };
        const load = Array.from({ length: 8 }, async () => {
          while (server?.child.exitCode === null && server.child.signalCode === null) {
            await oneRequest(random[next++ % random.length] as number, ack);
          }
        });
        const killAfterMs = 150 + ((random[next++ % random.length] as number) % 600);
        await new Promise((resolve) => setTimeout(resolve, killAfterMs));
        const exited = new Promise((resolve) => server?.child.once('exit', resolve));
        server.child.kill('SIGKILL');
        summary.kills += 1;
        await exited;
        await Promise.all(load);
        summary.acknowledged += ack.consumed.length + ack.issued.length + ack.sessions.length;
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
