import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { SESSION_LIFETIMES } from '../../src/core/session-token.js';
import { authenticatorCode, configureRecoveryCodes } from '../helpers/mfa.js';
import { alertText, createWebTestApp, type FormClient, type WebTestApp } from '../helpers/web-client.js';
import { enableTotpThroughPages, signUpThroughPages, TEST_PASSWORD } from '../helpers/web-flows.js';

const SESSION = '__Host-sparekey_session';

describe('Settings → Two-factor authentication over HTTP: every error path', () => {
  let web: WebTestApp;
  beforeAll(async () => {
    web = await createWebTestApp();
    await configureRecoveryCodes(web.env);
  });
  afterAll(async () => web?.close());

  let counter = 0;
  async function signedIn(): Promise<{ client: FormClient; email: string }> {
    counter += 1;
    const email = `settings-${counter}@example.test`;
    const client = web.client();
    await signUpThroughPages(client, email);
    return { client, email };
  }

  test('without a session: pages redirect to sign-in, forms get 401 and change nothing', async () => {
    const client = web.client();
    const page = await client.get('/settings/two-factor');
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/sign-in?notice=session-expired');
    await client.get('/sign-in');
    const _csrf = client.csrf();
    for (const path of [
      '/settings/two-factor/totp/start',
      '/settings/two-factor/recovery-codes/regenerate',
      '/settings/two-factor/disable',
    ]) {
      const response = await client.post(path, { _csrf, password: TEST_PASSWORD });
      expect(response.statusCode, path).toBe(401);
      expect(alertText(response.body)).toBe(errorMessages.not_signed_in);
    }
  });

  test('the session token changes when two-factor is turned on, and at every step-up', async () => {
    const { client } = await signedIn();
    const tokens = [client.cookies.get(SESSION)];
    await enableTotpThroughPages(client, web.env);
    tokens.push(client.cookies.get(SESSION));
    await client.get('/settings/two-factor/recovery-codes/regenerate');
    const regenerated = await client.post('/settings/two-factor/recovery-codes/regenerate', {
      password: TEST_PASSWORD,
    });
    expect(regenerated.statusCode).toBe(200);
    tokens.push(client.cookies.get(SESSION));
    expect(new Set(tokens).size).toBe(3);
  });

  test('a wrong TOTP code at setup keeps the enrollment with 401; an empty one 400; a stale enrollment 404', async () => {
    const { client } = await signedIn();
    await client.get('/settings/two-factor');
    const started = await client.post('/settings/two-factor/totp/start', {});
    const factorId = started.body.match(/name="factorId" value="([^"]+)"/)?.[1] as string;
    const empty = await client.post('/settings/two-factor/totp/confirm', { factorId, code: '' });
    expect(empty.statusCode).toBe(400);
    expect(alertText(empty.body)).toBe(errorMessages.code_required);
    const wrong = await client.post('/settings/two-factor/totp/confirm', { factorId, code: '000000' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('<svg');
    const stale = await client.post('/settings/two-factor/totp/confirm', {
      factorId: 'nope',
      code: '123456',
    });
    expect(stale.statusCode).toBe(404);
    expect(alertText(stale.body)).toBe(errorMessages.enrollment_not_found);
  });

  test('a second authenticator app is refused with 409 until the first is removed', async () => {
    const { client } = await signedIn();
    await enableTotpThroughPages(client, web.env);
    await client.get('/settings/two-factor');
    const again = await client.post('/settings/two-factor/totp/start', {});
    expect(again.statusCode).toBe(409);
    expect(alertText(again.body)).toBe(errorMessages.totp_already_added);
  });

  test('finishing without ticking "I have saved these codes" is refused with 400', async () => {
    const { client } = await signedIn();
    await enableTotpThroughPages(client, web.env);
    const response = await client.post('/settings/two-factor/recovery-codes/acknowledge', {});
    expect(response.statusCode).toBe(400);
    expect(alertText(response.body)).toContain(errorMessages.codes_not_acknowledged);
  });

  test('step-up: a wrong password or code is 401 and nothing changes; a TOTP code works once', async () => {
    const { client, email } = await signedIn();
    const { secret } = await enableTotpThroughPages(client, web.env);
    const user = await web.env.deps.store.findUserByEmail(email);
    const before = await web.env.deps.store.getRecoveryCodeSummary(user?.id as string);
    await client.get('/settings/two-factor/recovery-codes/regenerate');
    const attempts: Record<string, string>[] = [{ password: 'wrong password' }, { totpCode: '000000' }, {}];
    for (const fields of attempts) {
      const refused = await client.post('/settings/two-factor/recovery-codes/regenerate', fields);
      expect(refused.statusCode).toBe(401);
      expect(alertText(refused.body)).toBe(errorMessages.step_up_failed);
    }
    expect(await web.env.deps.store.getRecoveryCodeSummary(user?.id as string)).toEqual(before);
    const code = authenticatorCode(secret, web.env.clock.nowMs);
    const disabled = await client.post('/settings/two-factor/disable', { totpCode: code });
    expect(disabled.statusCode).toBe(303);
    expect(await web.env.deps.store.getRecoveryCodeSummary(user?.id as string)).toBeUndefined();
    // Turning it off twice: 409, with a message.
    await client.get('/settings/two-factor/disable');
    const twice = await client.post('/settings/two-factor/disable', { password: TEST_PASSWORD });
    expect(twice.statusCode).toBe(409);
    expect(alertText(twice.body)).toBe(errorMessages.mfa_not_enabled);
  });

  test('removing the only factor is refused with 409; an unknown factor 404', async () => {
    const { client, email } = await signedIn();
    await enableTotpThroughPages(client, web.env);
    const user = await web.env.deps.store.findUserByEmail(email);
    const [factor] = await web.env.deps.store.listFactors(user?.id as string);
    await client.get(`/settings/two-factor/factors/${factor?.id}/remove`);
    const last = await client.post(`/settings/two-factor/factors/${factor?.id}/remove`, {
      password: TEST_PASSWORD,
    });
    expect(last.statusCode).toBe(409);
    expect(alertText(last.body)).toBe(errorMessages.last_factor);
    // An id that is not one of the user's methods: 404 at once, no confirmation page for nothing.
    const unknownPage = await client.get('/settings/two-factor/factors/unknown/remove');
    expect(unknownPage.statusCode).toBe(404);
    expect(alertText(unknownPage.body)).toBe(errorMessages.factor_not_found);
    const unknown = await client.post('/settings/two-factor/factors/unknown/remove', {
      password: TEST_PASSWORD,
    });
    expect(unknown.statusCode).toBe(404);
  });

  test('regenerating while recovery codes are switched off is refused with 403 and a message', async () => {
    const { client } = await signedIn();
    await enableTotpThroughPages(client, web.env);
    await configureRecoveryCodes(web.env, { enabled: false });
    try {
      await client.get('/settings/two-factor/recovery-codes/regenerate');
      const response = await client.post('/settings/two-factor/recovery-codes/regenerate', {
        password: TEST_PASSWORD,
      });
      expect(response.statusCode).toBe(403);
      expect(alertText(response.body)).toBe(errorMessages.feature_disabled);
    } finally {
      await configureRecoveryCodes(web.env);
    }
  });

  test('a signed-in session ends after 30 idle minutes (NIST SP 800-63B 7.2, AAL2)', async () => {
    const { client } = await signedIn();
    expect((await client.get('/settings/two-factor')).statusCode).toBe(200);
    web.env.clock.advance(SESSION_LIFETIMES.signedInIdleMs - 1000);
    expect((await client.get('/settings/two-factor')).statusCode).toBe(200);
    web.env.clock.advance(SESSION_LIFETIMES.signedInIdleMs - 1000);
    expect((await client.get('/settings/two-factor')).statusCode).toBe(200);
    web.env.clock.advance(SESSION_LIFETIMES.signedInIdleMs + 1);
    expect((await client.get('/settings/two-factor')).statusCode).toBe(303);
  });
});
