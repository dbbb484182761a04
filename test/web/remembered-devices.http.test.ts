import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { hashSessionToken } from '../../src/core/session-token.js';
import { requestPasswordReset, resetPassword } from '../../src/service/accounts/password-reset.js';
import { REMEMBER_DEVICE_TTL_MS } from '../../src/service/sessions/remembered-devices.js';
import { authenticatorCode, configureRecoveryCodes } from '../helpers/mfa.js';
import { unlockTokenIn } from '../helpers/smtp-capture.js';
import { alertText, createWebTestApp, type FormClient, type WebTestApp } from '../helpers/web-client.js';
import {
  enableTotpThroughPages,
  passwordStep,
  signedInAdmin,
  TEST_PASSWORD,
  userAtSecondStep,
} from '../helpers/web-flows.js';

const DEVICE = '__Host-sparekey_device';
const TWO_HOURS = 2 * 3600_000;

/** Every "remember" checkbox on a page, as its tag and its label's text. */
function rememberBoxes(page: string): { tag: string; label: string | undefined }[] {
  return [...page.matchAll(/<input[^>]*name="remember"[^>]*>/g)].map(([tag]) => {
    const id = tag.match(/id="([^"]+)"/)?.[1];
    const label = page.match(new RegExp(`<label for="${id}">([^<]*)</label>`))?.[1];
    return { tag, label: label?.replace(/&#39;/g, "'") };
  });
}

/** Issue 8.2: "don't ask again on this browser for 30 days", like Auth0's remember-browser. */
describe('remembered browsers over HTTP', () => {
  let web: WebTestApp;
  let admin: FormClient;
  beforeAll(async () => {
    web = await createWebTestApp();
    await configureRecoveryCodes(web.env);
    ({ client: admin } = await signedInAdmin(web, 'devices-admin@example.test'));
  });
  afterAll(async () => web?.close());

  let counter = 0;
  /** A user with TOTP, signed in on `client` with the box ticked: the browser is remembered. */
  async function rememberedUser() {
    counter += 1;
    const email = `devices-${counter}@example.test`;
    const { client, secret, codes } = await userAtSecondStep(web, email);
    const response = await client.post('/sign-in/two-factor/totp', {
      code: authenticatorCode(secret, web.env.clock.nowMs),
      remember: 'yes',
    });
    expect(response.statusCode).toBe(303);
    web.env.clock.advance(30_000);
    const userId = (await web.env.deps.store.findUserByEmail(email))?.id as string;
    return {
      client,
      email,
      secret,
      codes,
      userId,
      setCookie: response.cookies.find((c) => c.name === DEVICE),
    };
  }

  async function signOut(client: FormClient) {
    await client.get('/settings/two-factor');
    await client.post('/sign-out', {});
  }

  /** Where the password step sends this browser: straight in, or to the second step. */
  async function afterPassword(client: FormClient, email: string): Promise<string | undefined> {
    const response = await passwordStep(client, email);
    return response.headers.location as string | undefined;
  }

  test('ticked: a signed, HttpOnly, Secure cookie for 30 days, stored hashed; the next sign-in skips the second step and is audited', async () => {
    const { client, email, userId, setCookie } = await rememberedUser();
    expect(setCookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
    if (!setCookie) throw new Error('no device cookie was set');
    expect((setCookie.expires as Date).getTime()).toBe(web.env.clock.nowMs - 30_000 + REMEMBER_DEVICE_TTL_MS);
    const [token, signature] = setCookie.value.split('.');
    expect(signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = await web.env.opened.db
      .selectFrom('remembered_devices')
      .selectAll()
      .where('user_id', '=', userId)
      .execute();
    expect(rows.map((row) => row.token_hash)).toEqual([hashSessionToken(token as string)]);
    expect(JSON.stringify(rows)).not.toContain(token);

    await signOut(client);
    expect(await afterPassword(client, email)).toBe('/settings/two-factor');
    const [signIn] = await web.env.deps.store.listAuditEvents({ userId, action: 'sign_in', limit: 1 });
    expect(signIn?.details).toMatchObject({ method: 'remembered_device' });
  });

  test("not ticked (a recovery code): nothing is remembered; a tampered or another user's cookie is not recognized", async () => {
    counter += 1;
    const { client, codes, email } = await userAtSecondStep(web, `devices-${counter}@example.test`);
    await client.get('/sign-in/recovery');
    const response = await client.post('/sign-in/recovery', { code: codes[0] as string });
    expect(response.statusCode).toBe(200);
    expect(response.cookies.some((cookie) => cookie.name === DEVICE)).toBe(false);
    await signOut(client);
    expect(await afterPassword(client, email)).toBe('/sign-in/two-factor');

    const other = await rememberedUser();
    // The remembered cookie of `other`, presented for this user: bound to its user, so not recognized.
    client.cookies.set(DEVICE, other.client.cookies.get(DEVICE) as string);
    expect(await afterPassword(client, email)).toBe('/sign-in/two-factor');
    // The right user with a tampered signature.
    const [token] = (other.client.cookies.get(DEVICE) as string).split('.');
    await signOut(other.client);
    other.client.cookies.set(DEVICE, `${token}.${'A'.repeat(43)}`);
    expect(await afterPassword(other.client, other.email)).toBe('/sign-in/two-factor');
  });

  test('the second step offers "Don\'t ask again on this browser for 30 days" on every form, never ticked', async () => {
    counter += 1;
    const email = `devices-${counter}@example.test`;
    const { client } = await userAtSecondStep(web, email);
    const expectUnticked = (page: string, forms: number) => {
      const boxes = rememberBoxes(page);
      expect(boxes).toHaveLength(forms);
      for (const box of boxes) {
        expect(box.tag).toMatch(/type="checkbox"/);
        expect(box.tag).toMatch(/value="yes"/);
        expect(box.tag).not.toMatch(/\bchecked\b/);
        expect(box.label).toBe("Don't ask again on this browser for 30 days");
      }
    };
    expectUnticked((await client.get('/sign-in/two-factor')).body, 1);
    expectUnticked((await client.get('/sign-in/recovery')).body, 1);
    // Email codes as a second method: the emailed code's form has its own box, unticked too.
    const userId = (await web.env.deps.store.findUserByEmail(email))?.id as string;
    const factorId = web.env.deps.random.uuid();
    await web.env.deps.store.createFactor({
      id: factorId,
      userId,
      kind: 'email',
      secretCiphertext: null,
      createdAt: web.env.clock.now(),
    });
    await web.env.deps.store.confirmFactor(userId, factorId, web.env.clock.now());
    await client.get('/sign-in/two-factor');
    const sent = await client.post('/sign-in/two-factor/email/send', {});
    expect(sent.statusCode).toBe(200);
    expectUnticked(sent.body, 2);
  });

  test('a recovery-code sign-in with the box ticked remembers the browser (without it, nothing: see above)', async () => {
    counter += 1;
    const { client, codes, email } = await userAtSecondStep(web, `devices-${counter}@example.test`);
    await client.get('/sign-in/recovery');
    const response = await client.post('/sign-in/recovery', { code: codes[0] as string, remember: 'yes' });
    expect(response.statusCode).toBe(200);
    expect(response.cookies.find((cookie) => cookie.name === DEVICE)).toMatchObject({ httpOnly: true });
    const userId = (await web.env.deps.store.findUserByEmail(email))?.id as string;
    expect(await web.env.deps.store.listRememberedDevices(userId, web.env.clock.now())).toHaveLength(1);
    await signOut(client);
    expect(await afterPassword(client, email)).toBe('/settings/two-factor');
  });

  test('turning two-factor off forgets every remembered browser: set up again, the old cookie asks again', async () => {
    const { client, email, userId } = await rememberedUser();
    const cookie = client.cookies.get(DEVICE);
    await client.get('/settings/two-factor/disable');
    const disabled = await client.post('/settings/two-factor/disable', { password: TEST_PASSWORD });
    expect(disabled.headers.location).toBe('/settings/two-factor?notice=mfa-disabled');
    expect(await web.env.deps.store.listRememberedDevices(userId, web.env.clock.now())).toEqual([]);
    const [event] = await web.env.deps.store.listAuditEvents({ userId, action: 'mfa_disabled', limit: 1 });
    expect(event?.details).toMatchObject({ reason: 'user', devicesForgotten: 1 });

    await enableTotpThroughPages(client, web.env);
    await signOut(client);
    expect(client.cookies.get(DEVICE)).toBe(cookie);
    expect(await afterPassword(client, email)).toBe('/sign-in/two-factor');
  });

  test('the disable_mfa policy: a recovery code forgets every remembered browser (and remembers none, ticked or not)', async () => {
    const { client, email, codes, userId } = await rememberedUser();
    await configureRecoveryCodes(web.env, { policy: 'disable_mfa' });
    try {
      // On another browser (the remembered one skips the second step), with the box ticked.
      const elsewhere = web.client();
      expect(await afterPassword(elsewhere, email)).toBe('/sign-in/two-factor');
      await elsewhere.get('/sign-in/recovery');
      const used = await elsewhere.post('/sign-in/recovery', { code: codes[0] as string, remember: 'yes' });
      expect(used.statusCode).toBe(200);
      expect(used.body).toContain('Two-factor authentication is off');
      expect(used.cookies.some((c) => c.name === DEVICE)).toBe(false);
      expect(await web.env.deps.store.listRememberedDevices(userId, web.env.clock.now())).toEqual([]);

      // Set up again: the browser remembered before the recovery asks for the second factor.
      await enableTotpThroughPages(elsewhere, web.env);
      await signOut(client);
      expect(await afterPassword(client, email)).toBe('/sign-in/two-factor');
    } finally {
      await configureRecoveryCodes(web.env, { policy: 'continue' });
    }
  });

  test('Settings lists the browser; "Forget this browser" and "Forget all" make it ask again', async () => {
    const { client, email, secret } = await rememberedUser();
    const settings = await client.get('/settings/two-factor');
    expect(settings.body).toContain('Remembered browsers');
    const deviceId = settings.body.match(/\/settings\/two-factor\/devices\/([^/]+)\/forget/)?.[1] as string;
    expect(settings.body).toContain('A browser');
    // The list marks the browser it is shown in; the same user on another browser sees no such mark on it.
    expect(settings.body.match(/<li>.*?This browser.*?<\/li>/)?.[0]).toContain(`/devices/${deviceId}/forget`);
    const elsewhere = web.client();
    expect((await passwordStep(elsewhere, email)).headers.location).toBe('/sign-in/two-factor');
    await elsewhere.get('/sign-in/two-factor');
    const secondStep = await elsewhere.post('/sign-in/two-factor/totp', {
      code: authenticatorCode(secret, web.env.clock.nowMs),
    });
    expect(secondStep.statusCode).toBe(303);
    const seenElsewhere = await elsewhere.get('/settings/two-factor');
    expect(seenElsewhere.body).toContain(`/devices/${deviceId}/forget`);
    expect(seenElsewhere.body).not.toContain('This browser');
    const forgotten = await client.post(`/settings/two-factor/devices/${deviceId}/forget`, {});
    expect(forgotten.headers.location).toBe('/settings/two-factor?notice=device-forgotten');
    await signOut(client);
    expect(await afterPassword(client, email)).toBe('/sign-in/two-factor');

    const second = await rememberedUser();
    await second.client.get('/settings/two-factor');
    const all = await second.client.post('/settings/two-factor/devices/forget-all', {});
    expect(all.headers.location).toBe('/settings/two-factor?notice=devices-forgotten');
    await signOut(second.client);
    expect(await afterPassword(second.client, second.email)).toBe('/sign-in/two-factor');
    // Another user's device id forgets nothing and says so.
    const third = await rememberedUser();
    await third.client.get('/settings/two-factor');
    const foreign = await third.client.post(`/settings/two-factor/devices/${deviceId}/forget`, {});
    expect(foreign.statusCode).toBe(404);
  });

  test('forgotten on a password reset, an administrator reset, an administrator "forget", and after 30 days', async () => {
    // Password reset (with a recovery code, as the account has two-factor).
    const byReset = await rememberedUser();
    const requested = await requestPasswordReset(web.env.deps, { email: byReset.email, context: {} });
    if (!requested.ok) throw new Error(requested.error);
    await requested.delivered;
    const mail = web.env.smtp.messages.findLast((message) => message.to.includes(byReset.email));
    const token = mail?.text.match(/token=([A-Za-z0-9_-]+)/)?.[1] as string;
    const reset = await resetPassword(web.env.deps, {
      token,
      newPassword: 'a new passphrase for devices',
      recoveryCode: byReset.codes[0] as string,
      context: {},
    });
    expect(reset).toMatchObject({ ok: true });
    expect(await passwordStep(byReset.client, byReset.email, 'a new passphrase for devices')).toMatchObject({
      headers: { location: '/sign-in/two-factor' },
    });

    // An administrator forgets the user's browsers.
    const byAdmin = await rememberedUser();
    const page = await admin.get(`/admin/users/${byAdmin.userId}`);
    expect(page.body).toContain("Forget this user's remembered browsers");
    const forgotten = await admin.post(`/admin/users/${byAdmin.userId}/forget-devices`, {});
    expect(forgotten.headers.location).toBe(
      `/admin/users/${byAdmin.userId}?notice=devices-forgotten-by-admin`,
    );
    await signOut(byAdmin.client);
    expect(await afterPassword(byAdmin.client, byAdmin.email)).toBe('/sign-in/two-factor');
    const [event] = await web.env.deps.store.listAuditEvents({
      userId: byAdmin.userId,
      action: 'devices_forgotten',
      limit: 1,
    });
    expect(event?.details).toMatchObject({ reason: 'admin', count: 1 });

    // An administrator's two-factor reset forgets them too.
    const byMfaReset = await rememberedUser();
    await admin.get(`/admin/users/${byMfaReset.userId}`);
    const mfaReset = await admin.post(`/admin/users/${byMfaReset.userId}/reset`, {
      reason: 'lost phone, identity checked',
      password: TEST_PASSWORD,
    });
    expect(mfaReset.statusCode).toBe(303);
    expect(await web.env.deps.store.listRememberedDevices(byMfaReset.userId, web.env.clock.now())).toEqual(
      [],
    );

    // 30 days later the browser asks again.
    const byTime = await rememberedUser();
    await signOut(byTime.client);
    web.env.clock.advance(REMEMBER_DEVICE_TTL_MS);
    expect(await afterPassword(byTime.client, byTime.email)).toBe('/sign-in/two-factor');
  });
  // Last: it moves the clock by 40 hours, past every earlier session (the administrator's too).
  test('a locked second step is not skipped by a remembered browser; after the unlock it skips again', async () => {
    const { client, email } = await rememberedUser();
    await signOut(client);
    // 20 wrong codes from another browser, each after the back-off (and the second-step session) ran out.
    const attacker = web.client();
    for (let i = 0; i < 20; i += 1) {
      web.env.clock.advance(TWO_HOURS);
      expect(await afterPassword(attacker, email)).toBe('/sign-in/two-factor');
      await attacker.get('/sign-in/two-factor');
      expect((await attacker.post('/sign-in/two-factor/totp', { code: '000000' })).statusCode).toBe(401);
    }
    // The right password on the remembered browser: still the second step, which says it is locked.
    expect(await afterPassword(client, email)).toBe('/sign-in/two-factor');
    const step = await client.get('/sign-in/two-factor');
    expect(step.statusCode).toBe(423);
    expect(alertText(step.body)).toBe(errorMessages.mfa_locked);

    // The lock is lifted by the emailed link and the password, not by the cookie; the cookie still counts after.
    const mail = web.env.smtp.messages.findLast((m) => m.to === email && m.subject.includes('locked'));
    const token = unlockTokenIn(mail?.text);
    const visitor = web.client();
    await visitor.get(`/unlock?token=${token}`);
    expect((await visitor.post('/unlock', { token, password: TEST_PASSWORD })).statusCode).toBe(303);
    expect(await afterPassword(client, email)).toBe('/settings/two-factor');
  });
});
