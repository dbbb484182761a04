import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { newTestPage } from '../helpers/browser.js';
import { authenticatorCode } from '../helpers/mfa.js';
import { openRedirectSpellings } from '../helpers/open-redirect-spellings.js';
import { TEST_DOMAIN } from './proxy-harness.js';
import { PROXY_PASSWORD, type ProxyWorld, startProxyWorld } from './proxy-world.js';

const OPS = `ops-${Date.now()}@example.test`;
const PLAIN = `plain-${Date.now()}@example.test`;
const NO_FACTOR = `nofactor-${Date.now()}@example.test`;

/** What the upstream app printed about the request it received. */
async function seenByApp(page: Page): Promise<{ path: string; headers: Record<string, string | undefined> }> {
  return JSON.parse((await page.locator('#seen').textContent()) ?? '{}');
}

async function signInThroughProxy(page: Page, email: string) {
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(PROXY_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * The whole forward-auth flow through a real proxy (issue: forward auth, "Tests"). `kind` picks the proxy
 * and the endpoint its documented configuration calls.
 */
export function defineProxySuite(kind: 'nginx' | 'caddy'): void {
  let world: ProxyWorld;
  let ops: { context: BrowserContext; page: Page };
  let opsSecret: string;
  let plainSecret: string;

  beforeAll(async () => {
    world = await startProxyWorld(kind);
    opsSecret = (await world.account(OPS, { roles: ['subscriber', 'ops'] })).secret as string;
    plainSecret = (await world.account(PLAIN)).secret as string;
    await world.account(NO_FACTOR, { totp: false });
    ops = await newTestPage(world.browser);
  }, 60_000);
  afterAll(async () => {
    await ops?.context.close();
    await world?.close();
  });

  const app = (path: string, host = 'app') => `${world.proxy.origin(host)}${path}`;

  describe(`${kind}: forward auth through the real proxy`, () => {
    test('anonymous → SpareKey sign-in → TOTP → back on the original URL; the app sees Remote-User; it was never reached before', async () => {
      const { page } = ops;
      const target = app('/reports/q3?tab=2');
      await page.goto(target);
      await page.waitForURL(
        (url) => url.host === `auth.${TEST_DOMAIN}:${world.proxy.port}` && url.pathname === '/sign-in',
      );
      expect(new URL(page.url()).searchParams.get('return_to')).toBe(target);
      expect(world.upstream.requests).toEqual([]);
      await signInThroughProxy(page, OPS);
      await page.waitForURL(/\/sign-in\/two-factor/);
      expect(world.upstream.requests).toEqual([]);
      await page.getByLabel('Authentication code').fill(authenticatorCode(opsSecret, world.env.clock.nowMs));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.waitForURL(target);
      const seen = await seenByApp(page);
      expect(seen.path).toBe('/reports/q3?tab=2');
      expect(seen.headers).toMatchObject({
        'remote-user': OPS,
        'remote-email': OPS,
        'remote-name': OPS,
        'remote-groups': 'ops,subscriber',
      });
      const events = await world.env.deps.store.listAuditEvents({
        action: 'forward_auth_sign_in',
        limit: 10,
      });
      expect(events.map((event) => event.details.host)).toContain(`app.${TEST_DOMAIN}:${world.proxy.port}`);
    });

    test('the session works across two subdomains: app2 lets the same person in without signing in again', async () => {
      const { page } = ops;
      await page.goto(app('/other', 'app2'));
      expect(new URL(page.url()).host).toBe(`app2.${TEST_DOMAIN}:${world.proxy.port}`);
      expect((await seenByApp(page)).headers['remote-user']).toBe(OPS);
    });

    test('a deny rule: 403, and the app is not reached', async () => {
      const response = await ops.page.goto(app('/blocked/area'));
      expect(response?.status()).toBe(403);
      // (The browser may ask the app for its favicon, which the rules allow: only /blocked must never arrive.)
      expect(world.upstream.requests.filter((request) => request.path.startsWith('/blocked'))).toEqual([]);
    });

    test('a role not allowed: 403 on app2 (ops only) for someone without the ops role, and the app is not reached', async () => {
      const { context, page } = await newTestPage(world.browser);
      try {
        await page.goto(app('/', 'app2'));
        await page.waitForURL(/\/sign-in\?return_to=/);
        await signInThroughProxy(page, PLAIN);
        await page.waitForURL(/\/sign-in\/two-factor/);
        await page
          .getByLabel('Authentication code')
          .fill(authenticatorCode(plainSecret, world.env.clock.nowMs));
        const before = world.upstream.requests.length;
        const [response] = await Promise.all([
          page.waitForResponse((r) => r.url().startsWith(app('/', 'app2'))),
          page.getByRole('button', { name: 'Verify' }).click(),
        ]);
        expect(response.status()).toBe(403);
        expect(world.upstream.requests.length).toBe(before);
        // The same person is let into app (no role needed there).
        const allowed = await world.raw('app', '/fine', {
          headers: { cookie: await sessionCookieOf(context) },
        });
        expect(allowed.status).toBe(200);
      } finally {
        await context.close();
      }
    });

    test('a two_factor rule sends someone without a second factor through setting one up and saving codes, then back', async () => {
      const { context, page } = await newTestPage(world.browser);
      try {
        const target = app('/needs-2fa');
        await page.goto(target);
        await page.waitForURL(/\/sign-in\?return_to=/);
        await signInThroughProxy(page, NO_FACTOR);
        await page.waitForURL(/\/settings\/two-factor\?notice=mfa-required-app/);
        await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
        await page.getByText("Can't scan it?").click();
        const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '');
        await page
          .getByLabel('Enter the 6-digit code your app shows')
          .fill(authenticatorCode(secret, world.env.clock.nowMs));
        await page.getByRole('button', { name: 'Verify and turn on' }).click();
        world.env.clock.advance(30_000);
        await page.locator('#recovery-codes code').first().waitFor();
        expect(world.upstream.requests.some((request) => request.path === '/needs-2fa')).toBe(false);
        await page.getByLabel('I have saved these codes').check();
        await page.getByRole('button', { name: 'Done' }).click();
        await page.waitForURL(target);
        expect((await seenByApp(page)).headers['remote-user']).toBe(NO_FACTOR);
      } finally {
        await context.close();
      }
    });

    test('the app is never reached without a session, whatever the method; forged Remote-* headers never reach it', async () => {
      const before = world.upstream.requests.length;
      for (const method of ['GET', 'POST', 'HEAD', 'DELETE']) {
        const response = await world.raw('app', '/anything', {
          method,
          headers: { 'remote-user': 'forged@evil.test', cookie: '__Secure-sparekey_session=forged' },
        });
        expect([302, 303, 401].includes(response.status), `${method}: ${response.status}`).toBe(true);
      }
      expect(world.upstream.requests.length).toBe(before);
      const cookie = await sessionCookieOf(ops.context);
      const forged = await world.raw('app', '/who', {
        headers: { cookie, 'remote-user': 'forged@evil.test', 'remote-groups': 'administrator' },
      });
      expect(forged.status).toBe(200);
      expect(forged.body).toContain(`"remote-user":"${OPS}"`);
      expect(forged.body).not.toContain('forged@evil.test');
      expect(forged.body).not.toContain('administrator');
      // Every request the app ever got carried a real identity.
      expect(world.upstream.requests.every((request) => request.headers['remote-user'])).toBe(true);
    });

    // STANDARDS req. 61: through the proxy, the sign-in page never sends a signed-in person elsewhere.
    test(`open-redirect attempts through ${kind} are all refused (at least 20 spellings)`, async () => {
      const cookie = await sessionCookieOf(ops.context);
      // Plain http is allowed for .localhost names (secure contexts), so that one spelling is not an attack here.
      const spellings = openRedirectSpellings(TEST_DOMAIN).filter((s) => !s.address.startsWith('http://'));
      expect(spellings.length).toBeGreaterThanOrEqual(20);
      for (const { name, address } of spellings) {
        const response = await world.raw('auth', `/sign-in?return_to=${encodeURIComponent(address)}`, {
          headers: { cookie },
        });
        expect(response.status, name).toBe(303);
        expect(response.location, name).toBe('/settings/two-factor');
      }
      // A good one, for contrast: the same request does return to a protected host.
      const good = app('/back');
      const back = await world.raw('auth', `/sign-in?return_to=${encodeURIComponent(good)}`, {
        headers: { cookie },
      });
      expect(back.location).toBe(good);
    });
  });
}

async function sessionCookieOf(context: BrowserContext): Promise<string> {
  const cookies = await context.cookies();
  const session = cookies.find((cookie) => cookie.name === '__Secure-sparekey_session');
  if (!session) throw new Error('no session cookie');
  expect(session).toMatchObject({ domain: `.${TEST_DOMAIN}`, secure: true, httpOnly: true, sameSite: 'Lax' });
  return `${session.name}=${session.value}`;
}
