import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { loadRecoveryCodeSettings } from '../../src/service/admin/settings.js';
import { alertText, createWebTestApp, type WebTestApp } from '../helpers/web-client.js';
import { passwordStep, signUpThroughPages, TEST_PASSWORD } from '../helpers/web-flows.js';

describe('accounts over HTTP: headers, CSRF, sign-up, sign-in, sign-out', () => {
  let web: WebTestApp;
  beforeAll(async () => {
    web = await createWebTestApp();
  });
  afterAll(async () => web?.close());

  test('pages carry a strict CSP and the usual security headers, and are never cached', async () => {
    const response = await web.client().get('/sign-in');
    expect(response.statusCode).toBe(200);
    const csp = String(response.headers['content-security-policy']);
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "frame-ancestors 'none'",
      "form-action 'self'",
      "base-uri 'none'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['strict-transport-security']).toContain('max-age=');
    expect(response.headers['cache-control']).toBe('no-store');
    // No inline script or style anywhere in the markup (the CSP would block it).
    expect(response.body).not.toMatch(/<script>|<style|style="/);
  });

  test('the session cookie is __Host-, Secure, HttpOnly, SameSite=Lax, and a new one at every sign-in', async () => {
    const client = web.client();
    await signUpThroughPages(client, 'cookie@example.test');
    const first = client.cookies.get('__Host-sparekey_session');
    await client.post('/sign-out', {});
    const response = await passwordStep(client, 'cookie@example.test');
    const cookie = response.cookies.find((c) => c.name === '__Host-sparekey_session');
    expect(cookie).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cookie?.domain).toBeUndefined();
    expect(cookie?.value).not.toBe(first);
    // The token is 256 bits of base64url; the database keeps only its hash.
    expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test('a form without a CSRF token, or with another session’s token, is refused with 403 and changes nothing (ASVS 4.0.3 4.2.2)', async () => {
    const client = web.client();
    await client.get('/sign-up');
    const missing = await client.post('/sign-up', {
      _csrf: '',
      email: 'csrf@example.test',
      password: TEST_PASSWORD,
    });
    expect(missing.statusCode).toBe(403);
    expect(alertText(missing.body)).toBe(errorMessages.csrf_invalid);
    const other = web.client();
    await other.get('/sign-up');
    const foreign = await client.post('/sign-up', {
      _csrf: 'x'.repeat(10),
      email: 'csrf@example.test',
      password: TEST_PASSWORD,
    });
    expect(foreign.statusCode).toBe(403);
    expect(await web.env.deps.store.findUserByEmail('csrf@example.test')).toBeUndefined();
  });

  test.each([
    ['not-an-email', TEST_PASSWORD, 400, 'invalid_email'],
    ['short@example.test', 'seven77', 400, 'password_too_short'],
    ['long@example.test', 'x'.repeat(257), 400, 'password_too_long'],
    ['common@example.test', 'password123', 400, 'password_common'],
    ['someone.special@example.test', 'someone.special-2024', 400, 'password_contains_email'],
  ] as const)(
    'sign-up with %s / %s is refused: %i %s (NIST SP 800-63B 5.1.1.2)',
    async (email, password, status, code) => {
      const client = web.client();
      await client.get('/sign-up');
      const response = await client.post('/sign-up', { email, password });
      expect(response.statusCode).toBe(status);
      expect(alertText(response.body)).toBe(errorMessages[code]);
      // The typed email comes back so the person does not retype it; the password never does.
      expect(response.body).not.toContain(`value="${password}"`);
      expect(client.cookies.has('__Host-sparekey_session')).toBe(false);
    },
  );

  test('a taken email, whatever its case, gets the same answer as a new one and no second account (no enumeration)', async () => {
    const client = web.client();
    await signUpThroughPages(client, 'taken@example.test');
    const before = await web.env.deps.store.findUserByEmail('taken@example.test');
    const again = web.client();
    await again.get('/sign-up');
    const taken = await again.post('/sign-up', {
      email: 'TAKEN@example.test',
      password: 'another-pass-phrase-9',
    });
    const fresh = web.client();
    await fresh.get('/sign-up');
    const created = await fresh.post('/sign-up', { email: 'fresh@example.test', password: TEST_PASSWORD });
    for (const response of [taken, created]) {
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe('/sign-in?notice=signed-up');
      expect(response.cookies.some((cookie) => cookie.name === '__Host-sparekey_session')).toBe(false);
    }
    expect(await web.env.deps.store.findUserByEmail('taken@example.test')).toEqual(before);
    expect(await web.env.deps.store.findUserByEmail('fresh@example.test')).toBeDefined();
  });

  test('a wrong password and an unknown email get the same 401 and message, and are audited', async () => {
    await signUpThroughPages(web.client(), 'known@example.test');
    const wrong = await passwordStep(web.client(), 'known@example.test', 'not-the-password');
    const unknown = await passwordStep(web.client(), 'nobody@example.test', 'not-the-password');
    for (const response of [wrong, unknown]) {
      expect(response.statusCode).toBe(401);
      expect(alertText(response.body)).toBe(errorMessages.wrong_credentials);
    }
    const failures = await web.env.deps.store.listAuditEvents({ action: 'sign_in_failed', limit: 10 });
    expect(failures.length).toBeGreaterThanOrEqual(2);
  });

  test('sign-in without two-factor lands on the settings page; sign-out ends the session for good', async () => {
    const client = web.client();
    await signUpThroughPages(client, 'plain@example.test');
    await client.post('/sign-out', {});
    const response = await passwordStep(client, 'plain@example.test');
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/settings/two-factor');
    const token = client.cookies.get('__Host-sparekey_session') as string;
    const page = await client.follow(response);
    expect(page.body).toContain('Two-factor authentication is <strong id="mfa-status">off</strong>');
    const out = await client.post('/sign-out', {});
    expect(out.headers.location).toBe('/sign-in?notice=signed-out');
    // Replaying the old cookie gets nothing.
    const replay = await web.app.inject({
      url: '/settings/two-factor',
      headers: { cookie: `__Host-sparekey_session=${token}` },
    });
    expect(replay.statusCode).toBe(303);
    expect(replay.headers.location).toBe('/sign-in?notice=session-expired');
  });

  test('unknown pages get a 404 page; a JSON body on a form route gets a 4xx page, never a 500 or a stack trace', async () => {
    const client = web.client();
    const missing = await client.get('/no-such-page');
    expect(missing.statusCode).toBe(404);
    expect(alertText(missing.body)).toBe(errorMessages.not_found);
    const json = await web.app.inject({
      method: 'POST',
      url: '/sign-in',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":',
    });
    expect(json.statusCode).toBeGreaterThanOrEqual(400);
    expect(json.statusCode).toBeLessThan(500);
    expect(json.body).not.toMatch(/at .*\.ts:\d+|stack/i);
    const huge = await web.app.inject({
      method: 'POST',
      url: '/sign-in',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `email=${'a'.repeat(70_000)}`,
    });
    expect(huge.statusCode).toBe(413);
  });

  test('the lost-access page says to contact support and what they will need', async () => {
    const page = await web.client().get('/lost-access');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('support');
    expect(page.body).toContain('the email address of the account');
  });
});

describe('first administrator: one-time setup link', () => {
  const token = 'T'.repeat(43);
  let web: WebTestApp;
  beforeAll(async () => {
    web = await createWebTestApp('sqlite', { setupToken: token });
  });
  afterAll(async () => web?.close());

  test('sign-up waits for setup; a wrong token is refused; the right one makes an administrator once', async () => {
    const client = web.client();
    const blocked = await client.get('/sign-up');
    expect(blocked.statusCode).toBe(409);
    expect((await client.get('/setup?token=wrong')).statusCode).toBe(403);
    const page = await client.get(`/setup?token=${token}`);
    expect(page.statusCode).toBe(200);
    const weak = await client.post('/setup', { token, email: 'admin@example.test', password: 'short' });
    expect(weak.statusCode).toBe(400);
    const created = await client.post('/setup', {
      token,
      email: 'admin@example.test',
      password: TEST_PASSWORD,
      recoveryCodes: 'on',
    });
    expect(created.statusCode).toBe(303);
    expect(created.headers.location).toBe('/settings/two-factor?notice=admin-created');
    const admin = await web.env.deps.store.findUserByEmail('admin@example.test');
    expect(admin?.roles).toEqual(['administrator']);
    // The operator's choice on the setup page turned the recovery-code master switch on.
    expect((await loadRecoveryCodeSettings(web.env.deps.store)).enabled).toBe(true);
    const again = web.client();
    expect((await again.get(`/setup?token=${token}`)).statusCode).toBe(403);
    expect((await again.get('/sign-up')).statusCode).toBe(200);
  });
});
