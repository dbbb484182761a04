import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_ACCOUNT_THROTTLE } from '../../src/core/throttle.js';
import { createUser } from '../../src/service/accounts/accounts.js';
import { verifyAuditChain } from '../../src/service/audit/audit-log.js';
import { accountThrottleKey } from '../../src/service/throttle/throttle-counters.js';
import type { OpenedStore } from '../../src/store/open-store.js';
import { CSRF_COOKIE } from '../../src/web/web-context.js';
import { testEngines } from '../helpers/engines.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { csrfTokenOn } from '../helpers/web-client.js';
import { freshDatabase, openLikeTheServers } from './scale-database.js';
import { reportStressRow } from './stress-report.js';

const PASSWORD = 'burst-harbor-kettle-52';
/** 200 in `npm test`; `npm run stress` sends 2,000 (SPAREKEY_STRESS_BURST). */
const GUESSES = Number(process.env.SPAREKEY_STRESS_BURST ?? 200);
/** Requests in flight at once: a burst, without running the client out of sockets. */
const IN_FLIGHT = 250;
/** Every refusal is a committed charge check and an audit event: 2,000 take longer than the default 30 s. */
const BURST_TIMEOUT_MS = 30_000 + GUESSES * 40;
const ALLOWED = DEFAULT_ACCOUNT_THROTTLE.freeFailures;

/** The i-th guess's client address, as a proxy in front of SpareKey would pass it on. */
const addressOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/**
 * Issue 6.4 (req 46, 47): a burst of wrong passwords for one account, spread over two server processes,
 * the sign-in page and the JSON API, and a client address of its own per guess (the servers trust
 * X-Forwarded-For, so no address counter ever fills up): the account's one counter, in the database all
 * processes share, lets exactly the free failures be evaluated. Counted from the audit log, not the answers.
 */
describe.each(testEngines())('wrong guesses in a burst over 2 processes on %s', (engine) => {
  let servers: ServerProcess[] = [];
  let opened: OpenedStore;
  let close: () => Promise<void>;
  let drop: () => Promise<void>;
  let userId: string;
  const email = `burst-${engine}@example.test`;
  /** The sign-in form's CSRF cookie and token, one pair per server (anonymous tokens are reusable). */
  const forms: { cookie: string; token: string }[] = [];

  beforeAll(async () => {
    const database = await freshDatabase(engine, { SPAREKEY_TRUST_PROXY: 'on' });
    drop = database.drop;
    servers = await Promise.all([startServerProcess(database.env), startServerProcess(database.env)]);
    const own = await openLikeTheServers(database.env);
    ({ opened, close } = own);
    const user = await createUser(own.deps, { email, password: PASSWORD, context: {} });
    if (!user.ok) throw new Error(user.error);
    userId = user.value.userId;
    for (const server of servers) {
      const page = await fetch(`${server.url}/sign-in`);
      const cookie = page.headers.getSetCookie().find((c) => c.startsWith(`${CSRF_COOKIE}=`));
      const token = csrfTokenOn(await page.text());
      if (!cookie || !token) throw new Error('the sign-in page set no CSRF cookie or token');
      forms.push({ cookie: cookie.split(';')[0] as string, token });
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await close?.();
    await drop?.();
  });

  /** Guess i: server i mod 2; every other pair through the page, the rest through the JSON API. */
  async function guess(i: number, password: string): Promise<number> {
    const server = servers[i % 2] as ServerProcess;
    const form = forms[i % 2] as { cookie: string; token: string };
    const forwarded = { 'x-forwarded-for': addressOf(i), 'user-agent': `burst/${i}` };
    const response =
      i % 4 < 2
        ? await fetch(`${server.url}/sign-in`, {
            method: 'POST',
            headers: {
              ...forwarded,
              cookie: form.cookie,
              'content-type': 'application/x-www-form-urlencoded',
            },
            body: new URLSearchParams({ _csrf: form.token, email, password }).toString(),
            redirect: 'manual',
          })
        : await fetch(`${server.url}/api/v1/auth/sign-in`, {
            method: 'POST',
            headers: { ...forwarded, 'content-type': 'application/json' },
            body: JSON.stringify({ email, password }),
          });
    await response.arrayBuffer();
    return response.status;
  }

  test(
    `${GUESSES} concurrent wrong passwords from ${GUESSES} addresses evaluate exactly ${ALLOWED}; the right one then waits`,
    async () => {
      const statuses: number[] = new Array(GUESSES);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(IN_FLIGHT, GUESSES) }, async () => {
          for (let i = next++; i < GUESSES; i = next++) statuses[i] = await guess(i, 'not the password!');
        }),
      );
      const events = async (action: string) =>
        (await opened.store.listAuditEvents({ userId, action, limit: GUESSES * 2 })).filter((event) =>
          event.userAgent?.startsWith('burst/'),
        );
      const evaluated = await events('sign_in_failed');
      const refused = await events('rate_limited');
      const wrong = statuses.filter((s) => s === 401).length;
      const throttled = statuses.filter((s) => s === 429).length;
      const serverErrors = statuses.filter((s) => s >= 500).length;
      reportStressRow({
        suite: `throttle burst, ${engine === 'sqlite' ? 'SQLite' : 'PostgreSQL'} (2 processes, ${GUESSES} addresses)`,
        file: import.meta.url,
        attempts: GUESSES,
        accepted: evaluated.length,
        acceptedLabel: `evaluated (${ALLOWED} allowed)`,
        doubleAccepts: Math.max(0, evaluated.length - ALLOWED),
        lostEvents: Math.max(0, wrong - evaluated.length) + Math.max(0, throttled - refused.length),
        serverErrors,
      });

      expect(serverErrors).toBe(0);
      expect(evaluated, 'passwords checked (the audit log)').toHaveLength(ALLOWED);
      expect(wrong).toBe(ALLOWED);
      expect(throttled).toBe(GUESSES - ALLOWED);
      expect(refused).toHaveLength(GUESSES - ALLOWED);
      // Refused by the account's counter, never an address's: each guess really came from its own address.
      expect(refused.filter((event) => event.details.scope !== 'account')).toEqual([]);
      const misattributed = [...refused, ...evaluated].filter(
        (event) => event.ip !== addressOf(Number(event.userAgent?.slice('burst/'.length))),
      );
      expect(misattributed, 'every event names the address its guess came from').toEqual([]);
      expect((await opened.store.findAttempts(accountThrottleKey(userId)))?.failures).toBe(ALLOWED);

      // In the back-off even the right password is refused unchecked, on either process (req 49).
      expect(await guess(GUESSES, PASSWORD)).toBe(429);
      expect(await guess(GUESSES + 3, PASSWORD)).toBe(429);
    },
    BURST_TIMEOUT_MS,
  );

  test('the audit chain written by both processes verifies', async () => {
    expect(await verifyAuditChain(opened.store)).toMatchObject({ ok: true });
  });
});
