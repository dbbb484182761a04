import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServiceDeps } from '../../src/compose.js';
import { loadConfig } from '../../src/config/load-config.js';
import { signUp } from '../../src/service/accounts.js';
import { createApiKey } from '../../src/service/admin/api-keys.js';
import { verifyAuditChain } from '../../src/service/admin/audit-log.js';
import { confirmTotp } from '../../src/service/confirm-totp.js';
import type { ServiceDeps } from '../../src/service/deps.js';
import { enrollTotp } from '../../src/service/enroll-totp.js';
import { updateRecoveryCodeSettings } from '../../src/service/settings.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { testEngines } from '../helpers/engines.js';
import { testDatabaseUrl } from '../helpers/postgres.js';
import { totpCode } from '../helpers/rfc6238.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

const PASSWORD = 'scale-out-harbor-lantern-4';
/** 200 in `npm test`; `npm run stress` raises it (SPAREKEY_STRESS_REQUESTS). */
const CONCURRENT_USES = Number(process.env.SPAREKEY_STRESS_REQUESTS ?? 200);

/**
 * Issue 6.2: several SpareKey processes on one database behave as one. The processes are real servers
 * (`src/main.ts`), the requests real HTTP, split round-robin; nothing is coordinated in memory.
 */
describe.each(testEngines())('several server processes on one %s database', (engine) => {
  const processes = engine === 'sqlite' ? 3 : 2;
  let servers: ServerProcess[] = [];
  let opened: OpenedStore;
  let deps: ServiceDeps;
  let cleanup: () => Promise<void>;
  let apiKey: string;
  let userId: string;

  beforeAll(async () => {
    const env: Record<string, string> = {
      SPAREKEY_SECRET: randomBytes(32).toString('base64'),
      SPAREKEY_KDF_PROFILE: 'minimum',
      SPAREKEY_LOG_LEVEL: 'warn',
    };
    if (engine === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'sparekey-scale-'));
      env.SPAREKEY_DATA_DIR = dir;
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    } else {
      // A database of its own: the servers use its default schema, as a deployment would.
      const name = `sparekey_scale_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: testDatabaseUrl });
      await admin.connect();
      await admin.query(`create database ${name}`);
      await admin.end();
      const url = new URL(testDatabaseUrl);
      url.pathname = `/${name}`;
      env.DATABASE_URL = url.toString();
      cleanup = async () => {
        const client = new pg.Client({ connectionString: testDatabaseUrl });
        await client.connect();
        await client.query(`drop database if exists ${name} with (force)`);
        await client.end();
      };
    }
    // Started together: they migrate the fresh database at the same time.
    servers = await Promise.all(Array.from({ length: processes }, () => startServerProcess(env)));
    const loaded = loadConfig(env);
    if (!loaded.ok) throw new Error(loaded.problems.join('; '));
    opened = await openStore(loaded.config.database);
    deps = createServiceDeps(loaded.config, opened.store);

    await updateRecoveryCodeSettings(deps, { enabled: true }, {});
    userId = (await newUser()).userId;
    const key = await createApiKey(deps, { name: 'scale', scopes: ['admin'], context: {} });
    if (!key.ok) throw new Error(key.error);
    apiKey = key.value.key;
  }, 90_000);

  let users = 0;
  /** A user with an authenticator app (so recovery codes may be generated), and a counter of its own. */
  async function newUser(options = { authenticator: true }): Promise<{ userId: string; email: string }> {
    users += 1;
    const email = `scale-${engine}-${users}@example.test`;
    const user = await signUp(deps, { email, password: PASSWORD, context: {} });
    if (!user.ok) throw new Error(user.error);
    const { userId: id } = user.value;
    if (!options.authenticator) return { userId: id, email };
    const enrollment = await enrollTotp(deps, { userId: id, context: {} });
    if (!enrollment.ok) throw new Error(enrollment.error);
    const confirmed = await confirmTotp(deps, {
      userId: id,
      factorId: enrollment.value.factorId,
      code: totpCode(enrollment.value.secretBase32, { timeMs: Date.now() }),
      context: {},
    });
    if (!confirmed.ok) throw new Error(confirmed.error);
    return { userId: id, email };
  }

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await deps?.attemptCounters?.close?.();
    await opened?.close();
    await cleanup?.();
  });

  /** The i-th request goes to server i mod n. */
  const api = (i: number, method: string, path: string, body?: unknown, token = apiKey) =>
    fetch(`${servers[i % servers.length]!.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });

  test('100 concurrent regenerations across the processes leave one live, complete set', async () => {
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => api(i, 'POST', `/users/${userId}/recovery-codes`)),
    );
    expect(responses.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    const issued = (await Promise.all(responses.map((r) => r.json()))) as {
      setId: string;
      codes: string[];
    }[];
    const status = await (await api(0, 'GET', `/users/${userId}/recovery-codes`)).json();
    expect(status).toMatchObject({ hasCodes: true, remaining: 10, total: 10 });
    const liveSetId = (await opened.store.getRecoveryCodeSummary(userId))?.setId;
    const live = issued.find((set) => set.setId === liveSetId);
    expect(live, 'the live set is one of the issued ones').toBeDefined();
    const dead = issued.find((set) => set.setId !== liveSetId) as { codes: string[] };
    const spend = (i: number, code: string) =>
      api(i, 'POST', `/users/${userId}/recovery-codes/verify`, { code });
    expect((await spend(1, dead.codes[0] as string)).status).toBe(401);
    expect((await spend(2, live?.codes[9] as string)).status).toBe(200);
  });

  test(`${CONCURRENT_USES} concurrent uses of one recovery code across the processes: exactly one 200, no 5xx`, async () => {
    const { userId: spender } = await newUser();
    const generated = await api(0, 'POST', `/users/${spender}/recovery-codes`);
    const { codes, setId } = (await generated.json()) as { codes: string[]; setId: string };
    const responses = await Promise.all(
      Array.from({ length: CONCURRENT_USES }, (_, i) =>
        api(i, 'POST', `/users/${spender}/recovery-codes/verify`, { code: codes[0] }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    const accepted = statuses.filter((s) => s === 200).length;
    console.log(
      `\nscale-out (${engine}, ${processes} processes)\n| attempts | accepted | double-accepts | 5xx |\n|---|---|---|---|\n` +
        `| ${statuses.length} | ${accepted} | ${Math.max(0, accepted - 1)} | ${statuses.filter((s) => s >= 500).length} |`,
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    // The losers: already used (409), or refused by the account's throttle before evaluation (429).
    expect(statuses.every((s) => [200, 409, 429].includes(s))).toBe(true);
    const used = await opened.store.listAuditEvents({
      userId: spender,
      action: 'recovery_code_used',
      limit: 1000,
    });
    expect(used.filter((event) => event.details.setId === setId)).toHaveLength(1);
  });

  test('a session started on one process works on the others; the throttle counts across processes', async () => {
    // No second factor: the password alone signs in, so the session can be used at once.
    const { email } = await newUser({ authenticator: false });
    const signIn = (i: number, password: string) =>
      fetch(`${servers[i % servers.length]?.url}/api/v1/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
    const started = await signIn(0, PASSWORD);
    expect(started.status).toBe(200);
    const { token } = (await started.json()) as { token: string };
    for (let i = 1; i < servers.length + 1; i += 1) {
      expect((await api(i, 'GET', '/me/mfa', undefined, token)).status).toBe(200);
    }
    const attempts = [];
    for (let i = 0; i < 6; i += 1) attempts.push((await signIn(i, 'wrong password!')).status);
    expect(attempts).toEqual([401, 401, 401, 401, 401, 429]);
  });

  test('the audit chain written by all the processes verifies', async () => {
    const verification = await verifyAuditChain(opened.store);
    expect(verification).toMatchObject({ ok: true });
    expect(verification.checked).toBeGreaterThan(300);
  });

  test('SIGTERM: every process exits 0', async () => {
    const codes = await Promise.all(servers.map((server) => server.stop()));
    expect(codes).toEqual(servers.map(() => 0));
  });
});
