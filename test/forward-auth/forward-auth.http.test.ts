import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hashSessionToken } from '../../src/core/session-token.js';
import { SHARED_SESSION_COOKIE } from '../../src/web/web-context.js';
import { authenticatorCode, configureRecoveryCodes } from '../helpers/mfa.js';
import { openRedirectSpellings } from '../helpers/open-redirect-spellings.js';
import type { FormClient } from '../helpers/web-client.js';
import { enableTotpThroughPages, passwordStep, signUpThroughPages } from '../helpers/web-flows.js';
import { type ForwardAuthWorld, startForwardAuthWorld } from './forward-auth-world.js';

const PAGE = 'https://app.example.com/reports/q3?tab=2';
/** helmet's set (src/http/security-headers.ts), which every answer a browser can see carries. */
const SECURITY_HEADERS = [
  'content-security-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-frame-options',
  'referrer-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
];
/** What every HTTP answer has, whatever the route. */
const TRANSPORT_HEADERS = ['content-length', 'date', 'connection', 'keep-alive'];
const SIGN_IN = `https://auth.example.com/sign-in?return_to=${encodeURIComponent(PAGE)}`;

let world: ForwardAuthWorld;
beforeAll(async () => {
  world = await startForwardAuthWorld();
  await configureRecoveryCodes(world.env);
});
afterAll(async () => world?.close());

async function signedUp(email: string): Promise<FormClient> {
  const client = world.client();
  await signUpThroughPages(client, email);
  return client;
}

async function audit(action: string) {
  return world.env.deps.store.listAuditEvents({ action, limit: 50 });
}

describe('the verification endpoint (issue: forward auth)', () => {
  test('anonymous: 401 with the sign-in address for nginx, 302 for Caddy/Traefik (303 after a POST)', async () => {
    const nginx = await world.verify(undefined, PAGE);
    expect(nginx.statusCode).toBe(401);
    expect(nginx.headers.location).toBe(SIGN_IN);
    expect(nginx.headers['remote-user']).toBeUndefined();
    const caddy = await world.verify(undefined, PAGE, { mode: 'forward-auth' });
    expect(caddy.statusCode).toBe(302);
    expect(caddy.headers.location).toBe(SIGN_IN);
    const post = await world.verify(undefined, PAGE, { mode: 'forward-auth', method: 'POST' });
    expect(post.statusCode).toBe(303);
  });

  test('without the proxy headers: 400 in the documented error shape', async () => {
    const response = await world.app.inject({ method: 'GET', url: '/api/verify/auth-request' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: { code: 'forward_auth_headers_missing', message: expect.stringContaining('X-Original-URL') },
    });
  });

  test('signed in and allowed: 200 with Remote-User, -Email, -Name and -Groups; the session cookie is shared with the cookie domain', async () => {
    const client = world.client();
    await client.get('/sign-up');
    await client.post('/sign-up', { email: 'fa-allowed@example.test', password: 'plum-harbor-quietly-77' });
    const signedIn = await passwordStep(client, 'fa-allowed@example.test');
    const setCookie = [signedIn.headers['set-cookie']]
      .flat()
      .find((c) => c?.startsWith(SHARED_SESSION_COOKIE));
    expect(setCookie).toMatch(/; Domain=example\.com/);
    expect(setCookie).toMatch(/; Secure/);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Lax/);
    for (const mode of ['auth-request', 'forward-auth'] as const) {
      const response = await world.verify(client, PAGE, { mode });
      expect(response.statusCode).toBe(200);
      expect(response.headers['remote-user']).toBe('fa-allowed@example.test');
      expect(response.headers['remote-email']).toBe('fa-allowed@example.test');
      expect(response.headers['remote-name']).toBe('fa-allowed@example.test');
      expect(response.headers['remote-groups']).toBe('subscriber');
      expect(response.headers['cache-control']).toBe('no-store');
    }
  });

  test('answers from the session: no KDF runs for any verdict', async () => {
    const client = await signedUp('fa-nokdf@example.test');
    const before = world.env.kdf.calls;
    for (let i = 0; i < 5; i += 1) {
      expect((await world.verify(client, PAGE)).statusCode).toBe(200);
      expect((await world.verify(undefined, PAGE)).statusCode).toBe(401);
    }
    expect(world.env.kdf.calls).toBe(before);
  });

  test('a deny rule: 403 for everyone, audited with the host, the path and the rule', async () => {
    const client = await signedUp('fa-deny@example.test');
    const response = await world.verify(client, 'https://app.example.com/blocked/x?token=secret');
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('access_denied');
    expect((await world.verify(undefined, 'https://app.example.com/blocked/')).statusCode).toBe(403);
    const events = await audit('forward_auth_denied');
    const user = await world.env.deps.store.findUserByEmail('fa-deny@example.test');
    const mine = events.find((event) => event.userId === user?.id);
    expect(mine?.details).toMatchObject({ host: 'app.example.com', path: '/blocked/x', rule: 'blocked' });
    expect(JSON.stringify(events)).not.toContain('secret');
  });

  test('a rule limited to a role: anonymous must sign in; a signed-in person without the role gets 403, with it 200', async () => {
    const target = 'https://ops.example.com/';
    expect((await world.verify(undefined, target)).statusCode).toBe(401);
    const client = await signedUp('fa-noops@example.test');
    expect((await world.verify(client, target)).statusCode).toBe(403);
    const ops = await signedUp('fa-ops@example.test');
    const user = await world.env.deps.store.findUserByEmail('fa-ops@example.test');
    await world.env.deps.store.setUserRoles(user?.id as string, ['ops']);
    const allowed = await world.verify(ops, target);
    expect(allowed.statusCode).toBe(200);
    expect(allowed.headers['remote-groups']).toBe('ops');
  });

  test('a host outside the cookie domain is refused (403), never redirected to', async () => {
    const response = await world.verify(undefined, 'https://evil.test/');
    expect(response.statusCode).toBe(403);
    expect(response.headers.location).toBeUndefined();
    expect(response.json().error.code).toBe('address_not_protected');
  });

  test('GET /metrics counts the verdicts', async () => {
    const metrics = await world.app.inject({ method: 'GET', url: '/metrics' });
    for (const decision of ['allowed', 'sign_in', 'denied']) {
      expect(metrics.body).toMatch(
        new RegExp(`sparekey_forward_auth_decisions_total\\{decision="${decision}"\\} [1-9]`),
      );
    }
  });
});

describe('a verdict is answered from the current state, never from a stale cache (issue 24: fast, without going stale)', () => {
  const WIKI = 'https://wiki.example.com/page';

  async function userOf(email: string) {
    const user = await world.env.deps.store.findUserByEmail(email);
    if (!user) throw new Error(email);
    return user;
  }

  test('every verdict a browser can see (401, 302, 303, 403, 400) carries the same security headers as a page, though helmet does not run for it', async () => {
    const page = (await world.app.inject({ method: 'GET', url: '/sign-in' })).headers;
    const client = await signedUp('fa-headers@example.test');
    const seen = [
      await world.verify(undefined, PAGE),
      await world.verify(undefined, PAGE, { mode: 'forward-auth' }),
      await world.verify(undefined, PAGE, { mode: 'forward-auth', method: 'POST' }),
      await world.verify(client, 'https://evil.test/'),
      await world.verify(undefined, 'https://evil.test/'),
      await world.verify(client, 'https://app.example.com/blocked/x'),
      await world.app.inject({ method: 'GET', url: '/api/verify/auth-request' }),
    ];
    expect(seen.map((response) => response.statusCode)).toEqual([401, 302, 303, 403, 403, 403, 400]);
    for (const response of seen) {
      for (const name of SECURITY_HEADERS) expect(response.headers[name], name).toBe(page[name]);
      expect(response.headers['cache-control']).toBe('no-store');
    }
  });

  test('a 200 verdict, which only the proxy sees (docs/security.md), carries exactly Remote-*, no-store and nosniff', async () => {
    const client = await signedUp('fa-headers-200@example.test');
    for (const mode of ['auth-request', 'forward-auth'] as const) {
      const allowed = await world.verify(client, PAGE, { mode });
      expect(allowed.statusCode).toBe(200);
      expect(allowed.body).toBe('');
      const names = Object.keys(allowed.headers).filter((name) => !TRANSPORT_HEADERS.includes(name));
      expect(names.sort()).toEqual([
        'cache-control',
        'remote-email',
        'remote-groups',
        'remote-name',
        'remote-user',
        'x-content-type-options',
        'x-request-id',
      ]);
      expect(allowed.headers['cache-control']).toBe('no-store');
      expect(allowed.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  test('a session ended or expired elsewhere: the next verdict asks to sign in', async () => {
    const ended = await signedUp('fa-ended@example.test');
    expect((await world.verify(ended, PAGE)).statusCode).toBe(200);
    await world.env.deps.store.deleteUserSessions((await userOf('fa-ended@example.test')).id);
    expect((await world.verify(ended, PAGE)).statusCode).toBe(401);

    const expired = await signedUp('fa-expired@example.test');
    expect((await world.verify(expired, PAGE)).statusCode).toBe(200);
    const token = expired.cookies.get(SHARED_SESSION_COOKIE) as string;
    const past = new Date(world.env.deps.clock.now().getTime() - 60_000);
    await world.env.deps.store.touchSession(hashSessionToken(token) as string, past, past);
    expect((await world.verify(expired, PAGE)).statusCode).toBe(401);
  });

  test('a role removed: the next verdict refuses (403)', async () => {
    const client = await signedUp('fa-role-removed@example.test');
    const user = await userOf('fa-role-removed@example.test');
    await world.env.deps.store.setUserRoles(user.id, ['ops']);
    expect((await world.verify(client, 'https://ops.example.com/')).statusCode).toBe(200);
    await world.env.deps.store.setUserRoles(user.id, ['subscriber']);
    expect((await world.verify(client, 'https://ops.example.com/')).statusCode).toBe(403);
  });

  test('rules and settings written by another instance (straight to the database) apply to the next verdict', async () => {
    const store = world.env.deps.store;
    const client = await signedUp('fa-other-instance@example.test');
    expect((await world.verify(client, WIKI)).statusCode).toBe(403);
    const before = await store.getSetting('access_rules');
    try {
      await store.putSetting(
        'access_rules',
        { rules: [{ name: 'wiki', hosts: ['wiki.example.com'], policy: 'one_factor' }] },
        new Date(),
      );
      expect((await world.verify(client, WIKI)).statusCode).toBe(200);
      await store.putSetting(
        'access_rules',
        { rules: [{ name: 'wiki', hosts: ['wiki.example.com'], policy: 'deny' }] },
        new Date(),
      );
      expect((await world.verify(client, WIKI)).statusCode).toBe(403);
    } finally {
      await store.putSetting('access_rules', before ?? { rules: [] }, new Date());
    }
    expect((await world.verify(client, WIKI)).statusCode).toBe(403);

    const settings = await store.getSetting('recovery_codes');
    try {
      await store.putSetting(
        'recovery_codes',
        { ...(settings as object), mfaRequiredRoles: ['subscriber'] },
        new Date(),
      );
      const owed = await world.verify(client, PAGE);
      expect(owed.statusCode).toBe(401);
      expect(owed.headers.location).toContain('/settings/two-factor');
    } finally {
      await store.putSetting('recovery_codes', settings, new Date());
    }
    expect((await world.verify(client, PAGE)).statusCode).toBe(200);
  });
});

describe('sign-in with a return address', () => {
  test('password only: back on the original URL, and the sign-in through the proxy is audited with the host', async () => {
    await signedUp('fa-return@example.test');
    const client = world.client();
    await client.get(`/sign-in?return_to=${encodeURIComponent(PAGE)}`);
    const signedIn = await client.post('/sign-in', {
      email: 'fa-return@example.test',
      password: 'plum-harbor-quietly-77',
    });
    expect(signedIn.statusCode).toBe(303);
    expect(signedIn.headers.location).toBe(PAGE);
    expect((await world.verify(client, PAGE)).statusCode).toBe(200);
    const user = await world.env.deps.store.findUserByEmail('fa-return@example.test');
    const events = await audit('forward_auth_sign_in');
    expect(events.find((event) => event.userId === user?.id)?.details).toEqual({ host: 'app.example.com' });
    // Used once: the next sign-in goes to the settings page.
    expect((await client.get('/sign-in')).headers.location).toBe('/settings/two-factor');
    // Already signed in: a valid return address is followed at once.
    expect((await client.get(`/sign-in?return_to=${encodeURIComponent(PAGE)}`)).headers.location).toBe(PAGE);
  });

  test('with an authenticator app: the second step, then back on the original URL', async () => {
    const setup = await signedUp('fa-totp@example.test');
    const { secret } = await enableTotpThroughPages(setup, world.env);
    const client = world.client();
    await client.get(`/sign-in?return_to=${encodeURIComponent(PAGE)}`);
    const password = await client.post('/sign-in', {
      email: 'fa-totp@example.test',
      password: 'plum-harbor-quietly-77',
    });
    expect(password.headers.location).toBe('/sign-in/two-factor');
    expect((await world.verify(client, PAGE)).statusCode).toBe(401);
    await client.follow(password);
    const done = await client.post('/sign-in/two-factor/totp', {
      code: authenticatorCode(secret, world.env.clock.nowMs),
    });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(PAGE);
    expect((await world.verify(client, PAGE)).statusCode).toBe(200);
  });

  test('a two_factor rule sends someone without a second factor through setting one up and saving codes, then back', async () => {
    const client = await signedUp('fa-setup@example.test');
    const target = 'https://secure.example.com/vault';
    const verdict = await world.verify(client, target);
    expect(verdict.statusCode).toBe(401);
    const location = verdict.headers.location as string;
    expect(location).toBe(
      `https://auth.example.com/settings/two-factor?notice=mfa-required-app&return_to=${encodeURIComponent(target)}`,
    );
    const page = await client.get(location.replace('https://auth.example.com', ''));
    expect(page.body).toContain('The app you opened requires two-factor authentication');
    const { codes } = await enableTotpThroughPages(client, world.env);
    expect(codes.length).toBeGreaterThan(0);
    const saved = await client.post('/settings/two-factor/recovery-codes/acknowledge', { saved: 'yes' });
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe(target);
    expect((await world.verify(client, target)).statusCode).toBe(200);
  });

  // STANDARDS req. 61: every spelling is refused by the pages too; the person lands on SpareKey's own page.
  test.each(openRedirectSpellings('example.com').map((s) => [s.name, s.address] as const))(
    'refuses to return to %s',
    async (_name, address) => {
      const client = world.client();
      await passwordStep(client, 'fa-return@example.test');
      const landing = await client.get(`/sign-in?return_to=${encodeURIComponent(address)}`);
      expect(landing.headers.location).toBe('/settings/two-factor');
      const verdict = await world.verify(undefined, address);
      expect(verdict.headers.location).toBeUndefined();
    },
  );
});
