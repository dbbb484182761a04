import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { normalizeRecoveryCode } from '../../src/core/recovery-code.js';
import { createUser } from '../../src/service/accounts/accounts.js';
import { createApiKey } from '../../src/service/admin/api-keys.js';
import { loadRecoveryCodeSettings, updateRecoveryCodeSettings } from '../../src/service/admin/settings.js';
import { verifyAuditChain } from '../../src/service/audit/audit-log.js';
import type { ServiceDeps } from '../../src/service/deps.js';
import { confirmTotp } from '../../src/service/factors/confirm-totp.js';
import { enrollTotp } from '../../src/service/factors/enroll-totp.js';
import { accountThrottleKey } from '../../src/service/throttle/throttle-counters.js';
import type { OpenedStore } from '../../src/store/open-store.js';
import { testEngines } from '../helpers/engines.js';
import { totpCode } from '../helpers/rfc6238.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import {
  freshDatabase,
  LOOSEST_FREE_FAILURES,
  LOOSEST_THROTTLE_ENV,
  openLikeTheServers,
  storedCode,
} from './scale-database.js';
import { reportStressRow } from './stress-report.js';

const PASSWORD = 'scale-out-harbor-lantern-4';
/** 200 in `npm test`; `npm run stress` raises it (SPAREKEY_STRESS_REQUESTS). */
const CONCURRENT_USES = Number(process.env.SPAREKEY_STRESS_REQUESTS ?? 200);
const FREE_FAILURES = LOOSEST_FREE_FAILURES;
/** Attempts fired at once: fewer than the free failures, so none of them is throttled. */
const ROUND_SIZE = FREE_FAILURES - 1;
/** 1,000 uses on a busy 2-core machine take well over the default 30 s. */
const USES_TIMEOUT_MS = 30_000 + CONCURRENT_USES * 120;

/**
 * Issue 6.2: several SpareKey processes on one database behave as one. The processes are real servers
 * (`src/main.ts`), the requests real HTTP, split round-robin; nothing is coordinated in memory.
 */
describe.each(testEngines())('several server processes on one %s database', (engine) => {
  const processes = engine === 'sqlite' ? 3 : 2;
  let servers: ServerProcess[] = [];
  let opened: OpenedStore;
  let deps: ServiceDeps;
  let drop: () => Promise<void>;
  let close: () => Promise<void>;
  let apiKey: string;
  let userId: string;

  beforeAll(async () => {
    // So the single-use race is fought by evaluated attempts, not decided by the throttle.
    const database = await freshDatabase(engine, LOOSEST_THROTTLE_ENV);
    drop = database.drop;
    // Started together: they migrate the fresh database at the same time.
    servers = await Promise.all(Array.from({ length: processes }, () => startServerProcess(database.env)));
    ({ opened, deps, close } = await openLikeTheServers(database.env));

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
    const user = await createUser(deps, { email, password: PASSWORD, context: {} });
    if (!user.ok) throw new Error(user.error);
    const { userId: id } = user.value;
    if (!options.authenticator) return { userId: id, email };
    const enrollment = await enrollTotp(deps, { userId: id, context: {} });
    if (!enrollment.ok) throw new Error(enrollment.error);
    const confirmed = await confirmTotp(deps, {
      userId: id,
      factorId: enrollment.value.factorId,
      code: totpCode(enrollment.value.secret, { timeMs: Date.now() }),
      context: {},
    });
    if (!confirmed.ok) throw new Error(confirmed.error);
    return { userId: id, email };
  }

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await close?.();
    await drop?.();
  });

  /** The i-th request goes to server i mod n. */
  const api = (i: number, method: string, path: string, body?: unknown, token = apiKey) =>
    fetch(`${servers[i % servers.length]!.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });

  /** The slot a code names (its first symbols), in the site's code format. */
  async function slotOf(code: string): Promise<number> {
    const normalized = normalizeRecoveryCode(code, (await loadRecoveryCodeSettings(opened.store)).format);
    if (!normalized.ok) throw new Error(`not a code: ${code}`);
    return normalized.slot;
  }

  /**
   * Sends `count` requests in rounds of ROUND_SIZE fired at once (round-robin over the processes), and
   * clears the account's failure counter before each round, as an operator's unlock would: no attempt is
   * throttled, so every one is evaluated. Returns each answer's status, bodies read.
   */
  async function inRounds(user: string, count: number, request: (i: number) => Promise<Response>) {
    const statuses: number[] = [];
    const rounds = Math.ceil(count / ROUND_SIZE);
    for (let round = 0; round < rounds; round += 1) {
      await opened.store.clearAttempts(accountThrottleKey(user));
      const from = Math.floor((round * count) / rounds);
      const to = Math.floor(((round + 1) * count) / rounds);
      const answers = await Promise.all(
        Array.from({ length: to - from }, async (_, k) => {
          const response = await request(from + k);
          await response.arrayBuffer();
          return response.status;
        }),
      );
      statuses.push(...answers);
    }
    await opened.store.clearAttempts(accountThrottleKey(user));
    return statuses;
  }

  const verify = (i: number, user: string, code: string) =>
    api(i, 'POST', `/users/${user}/recovery-codes/verify`, { code });

  test('100 concurrent regenerations across the processes leave one live, complete set: the last one committed', async () => {
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => api(i, 'POST', `/users/${userId}/recovery-codes`)),
    );
    expect(responses.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    const issued = (await Promise.all(responses.map((r) => r.json()))) as {
      setId: string;
      codes: string[];
    }[];
    expect(new Set(issued.map((set) => set.setId)).size).toBe(100);

    // Read from the tables, not the store's API (which could hide a duplicate): one set, all its rows.
    const sets = await opened.db
      .selectFrom('recovery_code_sets')
      .select('id')
      .where('user_id', '=', userId)
      .execute();
    expect(sets, 'exactly one live set').toHaveLength(1);
    const live = issued.find((set) => set.setId === sets[0]!.id);
    if (!live) throw new Error('the live set is none of the issued ones');
    const rows = await opened.db
      .selectFrom('recovery_codes')
      .select(['set_id', 'slot', 'used_at'])
      .where(
        'set_id',
        'in',
        issued.map((set) => set.setId),
      )
      .orderBy('slot')
      .execute();
    const liveSlots = (await Promise.all(live.codes.map(slotOf))).sort((a, b) => a - b);
    expect(rows, 'every code of the live set, unused, and no code of another').toEqual(
      liveSlots.map((slot) => ({ set_id: live.setId, slot, used_at: null })),
    );

    // Each regeneration is on record once, and the last one the chain records is the live set.
    const regenerations = (
      await opened.store.listAuditEventsAscending({
        userId,
        action: 'recovery_codes_regenerated',
        limit: 1000,
      })
    ).filter((event) => issued.some((set) => set.setId === event.details.setId));
    expect(new Set(regenerations.map((event) => event.details.setId)).size).toBe(100);
    expect(regenerations).toHaveLength(100);
    expect(regenerations.at(-1)?.details.setId).toBe(live.setId);

    // One code of every superseded answer is refused; every code of the live set works, once.
    const losers = issued.filter((set) => set !== live);
    const refused = await inRounds(userId, losers.length, (i) =>
      verify(i, userId, losers[i]!.codes[i % 10] as string),
    );
    expect(refused.filter((status) => status !== 401)).toEqual([]);
    const spent = await inRounds(userId, live.codes.length, (i) =>
      verify(i, userId, live.codes[i] as string),
    );
    expect(spent).toEqual(live.codes.map(() => 200));
  });

  test(
    `${CONCURRENT_USES} uses of one recovery code across the processes, up to ${ROUND_SIZE} at once, none throttled: one 200, the rest 409`,
    async () => {
      const { userId: spender } = await newUser();
      const generated = await api(0, 'POST', `/users/${spender}/recovery-codes`);
      const { codes, setId } = (await generated.json()) as { codes: string[]; setId: string };
      const code = codes[0] as string;
      const slot = await slotOf(code);
      const statuses = await inRounds(spender, CONCURRENT_USES, (i) => verify(i, spender, code));

      const events = (action: string) =>
        opened.store.listAuditEvents({ userId: spender, action, limit: CONCURRENT_USES * 2 });
      const used = (await events('recovery_code_used')).filter(
        (event) => event.details.setId === setId && event.details.slot === slot,
      );
      const alreadyUsed = (await events('recovery_code_failed')).filter(
        (event) => event.details.reason === 'code_already_used',
      );
      const accepted = statuses.filter((s) => s === 200).length;
      const refused = statuses.filter((s) => s === 409).length;
      const serverErrors = statuses.filter((s) => s >= 500).length;
      reportStressRow({
        suite: `multi-process ${engine === 'sqlite' ? 'SQLite' : 'PostgreSQL'} (${processes} processes, one code)`,
        file: import.meta.url,
        attempts: statuses.length,
        accepted,
        acceptedLabel: 'accepted',
        doubleAccepts: Math.max(0, accepted - 1, used.length - 1),
        lostEvents: Math.max(0, accepted - used.length) + Math.max(0, refused - alreadyUsed.length),
        serverErrors,
      });
      expect(serverErrors).toBe(0);
      // Every attempt was evaluated: none answered 429 (throttled) or 423 (locked).
      expect(statuses.filter((s) => s === 429 || s === 423)).toEqual([]);
      expect(accepted).toBe(1);
      expect(refused, 'every other attempt: already used').toBe(CONCURRENT_USES - 1);
      // The log agrees: one use of that slot, and a refusal on record for every 409.
      expect(used).toHaveLength(1);
      expect(alreadyUsed).toHaveLength(CONCURRENT_USES - 1);
      const row = await storedCode(opened, setId, slot);
      expect(row).toBeDefined();
      expect(row?.used_at).not.toBeNull();
    },
    USES_TIMEOUT_MS,
  );

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
    // One after the other, round-robin: the free failures are counted once over all the processes, and
    // the next attempt, on whichever process, waits (even with the right password).
    const attempts = [];
    for (let i = 0; i < FREE_FAILURES; i += 1) attempts.push((await signIn(i, 'wrong password!')).status);
    expect(attempts).toEqual(attempts.map(() => 401));
    for (let i = 0; i < servers.length; i += 1) {
      expect((await signIn(FREE_FAILURES + i, PASSWORD)).status).toBe(429);
    }
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
