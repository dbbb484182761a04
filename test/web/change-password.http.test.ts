import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { resolveSession } from '../../src/service/sessions/sessions.js';
import { DEVICE_COOKIE, SESSION_COOKIE } from '../../src/web/web-context.js';
import { authenticatorCode, configureRecoveryCodes } from '../helpers/mfa.js';
import { stateSnapshot } from '../helpers/state-snapshot.js';
import { alertText, createWebTestApp, type WebTestApp } from '../helpers/web-client.js';
import {
  enableTotpThroughPages,
  passwordStep,
  signUpThroughPages,
  TEST_PASSWORD,
} from '../helpers/web-flows.js';

const NEW_PASSWORD = 'saffron-meadow-lantern-31';
const TWO_HOURS = 2 * 3600_000;

/** Issue 8: Settings → Password, as GitHub and Auth0 offer it; a change forgets remembered browsers. */
describe('Settings → Password over HTTP', () => {
  let web: WebTestApp;
  beforeAll(async () => {
    web = await createWebTestApp();
    await configureRecoveryCodes(web.env);
  });
  afterAll(async () => web?.close());

  let counter = 0;
  /**
   * A user with an authenticator app, signed in on `client` (where the password is changed), on a second
   * browser `other` that ticked "Don't ask again", and with a JSON API session.
   */
  async function userOnThreeDevices() {
    counter += 1;
    const email = `change-password-${counter}@example.test`;
    const client = web.client();
    await signUpThroughPages(client, email);
    const { secret } = await enableTotpThroughPages(client, web.env);
    const other = web.client();
    expect((await passwordStep(other, email)).headers.location).toBe('/sign-in/two-factor');
    await other.get('/sign-in/two-factor');
    const remembered = await other.post('/sign-in/two-factor/totp', {
      code: authenticatorCode(secret, web.env.clock.nowMs),
      remember: 'yes',
    });
    expect(remembered.statusCode).toBe(303);
    expect(other.cookies.get(DEVICE_COOKIE)).toBeTruthy();
    web.env.clock.advance(30_000);
    const signIn = await web.app.inject({
      method: 'POST',
      url: '/api/v1/auth/sign-in',
      payload: { email, password: TEST_PASSWORD },
    });
    const apiChallenge = signIn.json().token as string;
    const apiSignedIn = await web.app.inject({
      method: 'POST',
      url: '/api/v1/auth/second-factor/totp',
      headers: { authorization: `Bearer ${apiChallenge}` },
      payload: { code: authenticatorCode(secret, web.env.clock.nowMs) },
    });
    expect(apiSignedIn.statusCode).toBe(200);
    web.env.clock.advance(30_000);
    const userId = (await web.env.deps.store.findUserByEmail(email))?.id as string;
    return { client, other, email, secret, userId, apiToken: apiSignedIn.json().token as string };
  }

  const apiMe = (token: string) =>
    web.app.inject({ method: 'GET', url: '/api/v1/me/mfa', headers: { authorization: `Bearer ${token}` } });

  async function signsIn(email: string, password: string): Promise<boolean> {
    const response = await passwordStep(web.client(), email, password);
    return response.statusCode === 303;
  }

  /** Everything a refused change must leave alone, including what the shared snapshot may not cover. */
  async function accountState(userId: string) {
    return {
      snapshot: await stateSnapshot(web.env),
      passwordHash: (await web.env.deps.store.findUserById(userId))?.passwordHash,
      devices: (await web.env.deps.store.listRememberedDevices(userId, web.env.clock.now())).map((d) => d.id),
    };
  }

  const changedMails = (email: string) =>
    web.env.smtp.messages.filter((m) => m.to.includes(email) && m.subject.includes('password was changed'));

  test('the settings page links to it; the form asks for the current and the new password', async () => {
    const { client } = await userOnThreeDevices();
    const settings = await client.get('/settings/two-factor');
    expect(settings.body).toMatch(/<a href="\/settings\/password" id="change-password">/);
    const page = await client.get('/settings/password');
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toContain('no-store');
    expect(page.body).toMatch(/name="currentPassword" type="password" autocomplete="current-password"/);
    expect(page.body).toMatch(/name="newPassword" type="password" autocomplete="new-password"/);
    expect(page.body).toContain('name="_csrf"');
    // Where password managers send a person to change a password (W3C well-known URL).
    const wellKnown = await client.get('/.well-known/change-password');
    expect(wellKnown.statusCode).toBe(303);
    expect(wellKnown.headers.location).toBe('/settings/password');
    // Without a session: the page sends the browser to sign in; the form gets 401.
    const anonymous = web.client();
    expect((await anonymous.get('/settings/password')).headers.location).toBe(
      '/sign-in?notice=session-expired',
    );
    await anonymous.get('/sign-in');
    const refused = await anonymous.post('/settings/password', {
      currentPassword: TEST_PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(refused.statusCode).toBe(401);
    expect(alertText(refused.body)).toBe(errorMessages.not_signed_in);
  });

  test('success: the new password signs in, the old does not; other sessions end, this one gets a new token; remembered browsers ask again; emailed; audited', async () => {
    const { client, other, email, userId, apiToken } = await userOnThreeDevices();
    const before = client.cookies.get(SESSION_COOKIE) as string;
    const otherSession = other.cookies.get(SESSION_COOKIE) as string;
    const otherDevice = other.cookies.get(DEVICE_COOKIE) as string;
    await client.get('/settings/password');
    const changed = await client.post('/settings/password', {
      currentPassword: TEST_PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(changed.statusCode, changed.body).toBe(303);
    expect(changed.headers.location).toBe('/settings/password?notice=password-changed');

    // This browser: a fresh token, still signed in; the old token is dead.
    const after = client.cookies.get(SESSION_COOKIE) as string;
    expect(after).not.toBe(before);
    expect(await resolveSession(web.env.deps, before)).toBeUndefined();
    const page = await client.follow(changed);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Your password was changed.');
    expect((await client.get('/settings/two-factor')).statusCode).toBe(200);

    // Every other session is over: the remembered browser's and the API's.
    expect(await resolveSession(web.env.deps, otherSession)).toBeUndefined();
    expect((await other.get('/settings/two-factor')).headers.location).toBe(
      '/sign-in?notice=session-expired',
    );
    expect((await apiMe(apiToken)).statusCode).toBe(401);

    // The remembered browser's cookie (still held by it) no longer skips the second step.
    expect(other.cookies.get(DEVICE_COOKIE)).toBe(otherDevice);
    expect(await web.env.deps.store.listRememberedDevices(userId, web.env.clock.now())).toEqual([]);
    const again = await passwordStep(other, email, NEW_PASSWORD);
    expect(again.headers.location).toBe('/sign-in/two-factor');

    expect(await signsIn(email, TEST_PASSWORD)).toBe(false);
    expect(await signsIn(email, NEW_PASSWORD)).toBe(true);

    const [mail] = changedMails(email);
    expect(mail?.subject).toBe(`Your ${web.env.deps.options.issuer} password was changed`);
    expect(mail?.text).toContain('IP address: 127.0.0.1');
    expect(mail?.text).toContain('Every other device that was signed in has been signed out');
    expect(mail?.text).not.toContain(NEW_PASSWORD);

    const [event] = await web.env.deps.store.listAuditEvents({
      userId,
      action: 'password_changed',
      limit: 1,
    });
    expect(event).toMatchObject({
      outcome: 'success',
      actorId: userId,
      details: { sessionsEnded: 2, devicesForgotten: 1 },
    });
    const [forgotten] = await web.env.deps.store.listAuditEvents({
      userId,
      action: 'devices_forgotten',
      limit: 1,
    });
    expect(forgotten?.details).toEqual({ reason: 'password_changed', count: 1 });
  });

  test('a wrong current password: 401 with a clear message and nothing changed; it is charged like a sign-in attempt', async () => {
    const { client, other, email, userId, apiToken } = await userOnThreeDevices();
    const session = client.cookies.get(SESSION_COOKIE) as string;
    const before = await accountState(userId);
    await client.get('/settings/password');
    const refused = await client.post('/settings/password', {
      currentPassword: 'not-my-password-at-all',
      newPassword: NEW_PASSWORD,
    });
    expect(refused.statusCode).toBe(401);
    expect(alertText(refused.body)).toBe(errorMessages.current_password_wrong);
    expect(await accountState(userId)).toEqual(before);
    expect(client.cookies.get(SESSION_COOKIE)).toBe(session);
    expect((await other.get('/settings/two-factor')).statusCode).toBe(200);
    expect((await apiMe(apiToken)).statusCode).toBe(200);
    expect(changedMails(email)).toEqual([]);
    const [failed] = await web.env.deps.store.listAuditEvents({
      userId,
      action: 'password_change_failed',
      limit: 1,
    });
    expect(failed).toMatchObject({ outcome: 'failure', details: { reason: 'current_password_wrong' } });

    // The account's sign-in counter: after 5 wrong passwords even the right one waits, here and at sign-in.
    for (let i = 0; i < 4; i += 1) {
      const wrong = await client.post('/settings/password', {
        currentPassword: `wrong-password-${i}`,
        newPassword: NEW_PASSWORD,
      });
      expect(wrong.statusCode).toBe(401);
    }
    const throttled = await client.post('/settings/password', {
      currentPassword: TEST_PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(throttled.statusCode).toBe(429);
    expect(throttled.headers['retry-after']).toBe('30');
    expect(alertText(throttled.body)).toBe(`${errorMessages.too_many_attempts} Try again in 30 seconds.`);
    expect((await passwordStep(web.client(), email)).statusCode).toBe(429);
    expect((await accountState(userId)).passwordHash).toBe(before.passwordHash);
    web.env.clock.advance(TWO_HOURS);
    expect(await signsIn(email, TEST_PASSWORD)).toBe(true);
  });

  test('a new password that breaks the sign-up rules is refused with its reason, before the current one is tried', async () => {
    const { client, email, userId } = await userOnThreeDevices();
    const before = await accountState(userId);
    await client.get('/settings/password');
    const cases: [string, keyof typeof errorMessages][] = [
      ['short', 'password_too_short'],
      ['password', 'password_common'],
      [`${email}-2026`, 'password_contains_email'],
      ['x'.repeat(257), 'password_too_long'],
    ];
    for (const [newPassword, code] of cases) {
      const refused = await client.post('/settings/password', {
        currentPassword: TEST_PASSWORD,
        newPassword,
      });
      expect(refused.statusCode, code).toBe(400);
      expect(alertText(refused.body), code).toBe(errorMessages[code]);
    }
    expect(await accountState(userId)).toEqual(before);
    expect(await signsIn(email, TEST_PASSWORD)).toBe(true);
    expect(
      await web.env.deps.store.listAuditEvents({ userId, action: 'password_change_failed', limit: 10 }),
    ).toEqual([]);
  });

  test('without a CSRF token, or with a forged one: 403 and nothing changed', async () => {
    const { client, email, userId } = await userOnThreeDevices();
    const before = await accountState(userId);
    await client.get('/settings/password');
    for (const _csrf of ['', 'forged-token']) {
      const refused = await client.post('/settings/password', {
        _csrf,
        currentPassword: TEST_PASSWORD,
        newPassword: NEW_PASSWORD,
      });
      expect(refused.statusCode).toBe(403);
      expect(alertText(refused.body)).toBe(errorMessages.csrf_invalid);
    }
    expect(await accountState(userId)).toEqual(before);
    expect(await signsIn(email, NEW_PASSWORD)).toBe(false);
    expect(changedMails(email)).toEqual([]);
  });

  test('the JSON API: POST /api/v1/me/password with the same rules; the answer carries the new token', async () => {
    const { other, email, userId, apiToken } = await userOnThreeDevices();
    const change = (token: string, body: Record<string, string>) =>
      web.app.inject({
        method: 'POST',
        url: '/api/v1/me/password',
        headers: { authorization: `Bearer ${token}` },
        payload: body,
      });
    const wrong = await change(apiToken, { currentPassword: 'nope-nope-nope', newPassword: NEW_PASSWORD });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({
      error: { code: 'current_password_wrong', message: errorMessages.current_password_wrong },
    });
    const weak = await change(apiToken, { currentPassword: TEST_PASSWORD, newPassword: 'password' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error.code).toBe('password_common');
    expect((await change(apiToken, { newPassword: NEW_PASSWORD })).json().error.code).toBe('invalid_request');
    expect(await signsIn(email, TEST_PASSWORD)).toBe(true);

    const changed = await change(apiToken, { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers['cache-control']).toBe('no-store');
    const { token } = changed.json() as { token: string };
    expect(token).not.toBe(apiToken);
    expect((await apiMe(apiToken)).statusCode).toBe(401);
    expect((await apiMe(token)).statusCode).toBe(200);
    expect((await other.get('/settings/two-factor')).headers.location).toBe(
      '/sign-in?notice=session-expired',
    );
    expect(await web.env.deps.store.listRememberedDevices(userId, web.env.clock.now())).toEqual([]);
    expect(await signsIn(email, TEST_PASSWORD)).toBe(false);
    expect(await signsIn(email, NEW_PASSWORD)).toBe(true);
    expect(changedMails(email)).toHaveLength(1);
  });
});
