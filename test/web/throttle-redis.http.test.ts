import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../../src/build-server.js';
import { createServiceDeps } from '../../src/compose.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createUser } from '../../src/service/accounts/accounts.js';
import { updateRecoveryCodeSettings } from '../../src/service/admin/settings.js';
import type { ServiceDeps } from '../../src/service/deps.js';
import { confirmTotp } from '../../src/service/factors/confirm-totp.js';
import { enrollTotp } from '../../src/service/factors/enroll-totp.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { authenticatorCode } from '../helpers/mfa.js';
import { redisAvailable, testRedisUrl } from '../helpers/redis.js';
import { type SmtpCapture, startSmtpCapture, unlockTokenIn } from '../helpers/smtp-capture.js';
import { FormClient } from '../helpers/web-client.js';

/*
 * REDIS_URL, read by loadConfig and wired by compose.ts, really moves the server's throttle counters to
 * Redis: the app is built exactly as main.ts builds it, and the test looks at Redis's keys and the
 * database's table. Then a lock and its unlock (emailed link + password) run end to end on Redis.
 * The clock is the system's, so the throttle is configured with 1-second waits (docs/configuration.md).
 */

const PASSWORD = 'plum-harbor-quietly-77';
const PREFIX = 'sparekey:throttle:'; // compose.ts uses the default prefix
const withRedis = await redisAvailable();

/** A server as main.ts composes it, from environment variables only (plus a temporary data directory). */
async function composedServer(env: Record<string, string>) {
  const dataDir = await mkdtemp(join(tmpdir(), 'sparekey-redis-'));
  const loaded = loadConfig({ SPAREKEY_DATA_DIR: dataDir, SPAREKEY_KDF_PROFILE: 'minimum', ...env });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const opened: OpenedStore = await openStore(loaded.config.database);
  const deps: ServiceDeps = createServiceDeps(loaded.config, opened.store);
  const app: FastifyInstance = await buildServer({ deps });
  await app.ready();
  return {
    deps,
    opened,
    app,
    /** The database's own counter rows: none at all while the counters live in Redis. */
    databaseCounters: () => opened.db.selectFrom('throttle_counters').selectAll().execute(),
    close: async () => {
      await app.close();
      await deps.attemptCounters?.close?.();
      await opened.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

describe.skipIf(!withRedis)('REDIS_URL: the composed server keeps its throttle counters in Redis', () => {
  let smtp: SmtpCapture;
  let server: Awaited<ReturnType<typeof composedServer>>;
  let redis: Redis;
  const usedKeys: string[] = [];
  // An address of its own per run, so runs in parallel on one Redis never share an address counter.
  const ip = `198.18.${randomInt(256)}.${randomInt(1, 255)}`;
  beforeAll(async () => {
    smtp = await startSmtpCapture();
    redis = new Redis(testRedisUrl);
    server = await composedServer({
      REDIS_URL: testRedisUrl,
      SPAREKEY_SMTP_URL: smtp.url,
      SPAREKEY_PUBLIC_URL: 'http://sparekey.test',
      SPAREKEY_THROTTLE_FREE_FAILURES: '19',
      SPAREKEY_THROTTLE_LOCK_AFTER: '20',
      SPAREKEY_THROTTLE_BASE_DELAY_SECONDS: '1',
      SPAREKEY_THROTTLE_MAX_DELAY_SECONDS: '1',
      SPAREKEY_THROTTLE_ADDRESS_FREE_FAILURES: '100',
    });
    usedKeys.push(`${PREFIX}address:${ip}`);
  });
  afterAll(async () => {
    if (usedKeys.length > 0) await redis?.del(...usedKeys);
    redis?.disconnect();
    await server?.close();
    await smtp?.close();
  });

  /** A user with an authenticator app and recovery codes, made through the services. */
  async function newUser() {
    const { deps } = server;
    const email = `redis-${randomInt(1e9)}@example.test`;
    const created = await createUser(deps, { email, password: PASSWORD, context: {} });
    if (!created.ok) throw new Error(created.error);
    const userId = created.value.userId;
    usedKeys.push(`${PREFIX}account:${userId}`, `${PREFIX}email-send:${userId}`);
    expect((await updateRecoveryCodeSettings(deps, { enabled: true }, {})).ok).toBe(true);
    const enrolled = await enrollTotp(deps, { userId, context: {} });
    if (!enrolled.ok) throw new Error(enrolled.error);
    const code = authenticatorCode(enrolled.value.secret, Date.now());
    const confirmed = await confirmTotp(deps, {
      userId,
      factorId: enrolled.value.factorId,
      code,
      context: {},
    });
    if (!confirmed.ok) throw new Error(confirmed.error);
    return { userId, email, codes: confirmed.value.recoveryCodes?.codes as string[] };
  }

  const api = (url: string, payload: object, token?: string) =>
    server.app.inject({
      method: 'POST',
      url: `/api/v1${url}`,
      payload,
      remoteAddress: ip,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  test('a wrong password is counted in Redis under the account and the address, and not in the database', async () => {
    expect(server.deps.attemptCounters).toBeDefined();
    const { userId, email } = await newUser();
    expect((await api('/auth/sign-in', { email, password: 'wrong password!' })).statusCode).toBe(401);
    expect(await redis.hgetall(`${PREFIX}account:${userId}`)).toMatchObject({ failures: '1', locked_at: '' });
    expect(Number((await redis.hgetall(`${PREFIX}address:${ip}`)).failures)).toBeGreaterThanOrEqual(1);
    expect(await server.databaseCounters()).toEqual([]);
  });

  test('without REDIS_URL the same composition counts in the database (the control)', async () => {
    const plain = await composedServer({});
    try {
      expect(plain.deps.attemptCounters).toBeUndefined();
      const created = await createUser(plain.deps, {
        email: 'plain@example.test',
        password: PASSWORD,
        context: {},
      });
      expect(created.ok).toBe(true);
      const response = await plain.app.inject({
        method: 'POST',
        url: '/api/v1/auth/sign-in',
        payload: { email: 'plain@example.test', password: 'wrong password!' },
        remoteAddress: ip,
      });
      expect(response.statusCode).toBe(401);
      expect((await plain.databaseCounters()).map((row) => row.key).sort()).toEqual(
        [`account:${created.ok && created.value.userId}`, `address:${ip}`].sort(),
      );
    } finally {
      await plain.close();
    }
  });

  test('req 48: locked on Redis at the 20th failure; the password step is open at once; the emailed link and the password unlock', async () => {
    const { userId, email, codes } = await newUser();
    const key = `${PREFIX}account:${userId}`;
    for (let failure = 1; failure <= 20; failure += 1) {
      // The 19th failure starts the 1-second back-off: the 20th waits it out.
      if (failure === 20) await new Promise((resolve) => setTimeout(resolve, 1100));
      const wrong = await api('/auth/sign-in', { email, password: 'wrong password!' });
      expect(wrong.statusCode, `failure ${failure}`).toBe(401);
    }
    const locked = await redis.hgetall(key);
    expect(locked).toMatchObject({ failures: '20', blocked_until: '' });
    expect(Number(locked.locked_at)).toBeGreaterThan(0);
    expect(await server.databaseCounters()).toEqual([]);
    const audited = await server.opened.store.listAuditEvents({ userId, action: 'mfa_locked', limit: 5 });
    expect(audited).toHaveLength(1);

    // At once, with no wait: the right password gets through (it is half of the unlock); second factors,
    // even a right recovery code, are refused with 423.
    const signedIn = await api('/auth/sign-in', { email, password: PASSWORD });
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    const { token } = signedIn.json() as { token: string };
    const refused = await api('/auth/second-factor/recovery-code', { code: codes[0] }, token);
    expect(refused.statusCode).toBe(423);

    const mail = smtp.messages.find((message) => message.subject.includes('is locked'));
    const link = `/unlock?token=${unlockTokenIn(mail?.text)}`;
    const visitor = new FormClient(server.app, ip);
    expect((await visitor.get(link)).statusCode).toBe(200);
    const unlocked = await visitor.post('/unlock', {
      token: link.split('=')[1] as string,
      password: PASSWORD,
    });
    expect(unlocked.statusCode).toBe(303);
    expect(unlocked.headers.location).toBe('/sign-in?notice=unlocked');
    expect(await redis.exists(key)).toBe(0);

    const again = (await api('/auth/sign-in', { email, password: PASSWORD })).json() as { token: string };
    const used = await api('/auth/second-factor/recovery-code', { code: codes[0] }, again.token);
    expect(used.statusCode, used.body).toBe(200);
  });
});
