import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createUser } from '../../src/service/accounts/accounts.js';
import { authenticatorCode, configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { createWebTestApp, type WebTestApp } from '../helpers/web-client.js';
import { passwordStep, TEST_PASSWORD } from '../helpers/web-flows.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON responses are read field by field in assertions
type Json = Record<string, any>;

const DEVICE = '__Host-sparekey_device';

/**
 * Issue 20, drift 5: the remembered-browser rule and the "these roles must set up two-factor" gate belong
 * to the sign-in flow, so the pages and the JSON API give the same answer (docs/decisions/0009).
 */
describe('sign-in signals through the pages and the JSON API', () => {
  let web: WebTestApp;
  beforeAll(async () => {
    web = await createWebTestApp();
    await configureRecoveryCodes(web.env);
  });
  afterAll(async () => web?.close());

  let counter = 0;
  async function account(options: { roles?: string[]; totp?: boolean } = {}) {
    counter += 1;
    const email = `signals-${counter}@example.test`;
    const created = await createUser(web.env.deps, {
      email,
      password: TEST_PASSWORD,
      roles: options.roles,
      context: {},
    });
    if (!created.ok) throw new Error(created.error);
    const userId = created.value.userId;
    const totp = options.totp ? await enableTotp(web.env, userId) : undefined;
    return { email, userId, secret: totp?.secret ?? '' };
  }

  async function post(url: string, body: Json, token = '') {
    const response = await web.app.inject({
      method: 'POST',
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      payload: body,
    });
    return { status: response.statusCode, json: JSON.parse(response.body || '{}') as Json };
  }
  const apiSignIn = (email: string, extra: Json = {}) =>
    post('/api/v1/auth/sign-in', { email, password: TEST_PASSWORD, ...extra });
  const lastSignIn = async (userId: string) =>
    (await web.env.deps.store.listAuditEvents({ userId, action: 'sign_in', limit: 1 }))[0]?.details;

  test('the gate: a role that must use two-factor is sent to set it up by the pages and told so by the API, whose token can set it up', async () => {
    await configureRecoveryCodes(web.env, { mfaRequiredRoles: ['editor'] });
    try {
      const editor = await account({ roles: ['editor'] });
      const page = await passwordStep(web.client(), editor.email);
      expect(page.statusCode).toBe(303);
      expect(page.headers.location).toBe('/settings/two-factor?notice=mfa-required');

      const signedIn = await apiSignIn(editor.email);
      expect(signedIn.status).toBe(200);
      expect(signedIn.json).toMatchObject({ stage: 'two_factor_setup_required' });
      // The token is a signed-in one: the app takes the person through the setup with it.
      const enrolled = await post('/api/v1/me/factors/totp', {}, signedIn.json.token);
      expect(enrolled.status).toBe(201);
      const confirmed = await post(
        `/api/v1/me/factors/totp/${enrolled.json.factorId}/confirm`,
        { code: authenticatorCode(enrolled.json.secret, web.env.clock.nowMs) },
        signedIn.json.token,
      );
      expect(confirmed.json.mfaEnabled).toBe(true);
      web.env.clock.advance(30_000);
      expect((await apiSignIn(editor.email)).json.stage).toBe('second_factor');
      expect((await passwordStep(web.client(), editor.email)).headers.location).toBe('/sign-in/two-factor');

      // Another role, the same setting: no gate on either edge.
      const subscriber = await account();
      expect((await apiSignIn(subscriber.email)).json.stage).toBe('signed_in');
      expect((await passwordStep(web.client(), subscriber.email)).headers.location).toBe(
        '/settings/two-factor',
      );
    } finally {
      await configureRecoveryCodes(web.env, { mfaRequiredRoles: [] });
    }
  });

  test('the remembered browser through the API: asked for at the second step, presented at the next sign-in, the second step is skipped and audited', async () => {
    const { email, userId, secret } = await account({ totp: true });
    const challenge = await apiSignIn(email);
    expect(challenge.json.stage).toBe('second_factor');
    const done = await post(
      '/api/v1/auth/second-factor/totp',
      { code: authenticatorCode(secret, web.env.clock.nowMs), rememberBrowser: true },
      challenge.json.token,
    );
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ stage: 'signed_in', rememberedBrowser: { token: expect.any(String) } });
    const remembered = done.json.rememberedBrowser.token as string;
    web.env.clock.advance(30_000);

    const again = await apiSignIn(email, { rememberedBrowser: remembered });
    expect(again.json).toMatchObject({ stage: 'signed_in', rememberedBrowser: true });
    expect(await lastSignIn(userId)).toMatchObject({ method: 'remembered_device' });
    // Without it, or with another user's, the second step is owed.
    expect((await apiSignIn(email)).json.stage).toBe('second_factor');
    const other = await account({ totp: true });
    expect((await apiSignIn(other.email, { rememberedBrowser: remembered })).json.stage).toBe(
      'second_factor',
    );
    // Not asked for: nothing is remembered.
    const plain = await apiSignIn(other.email);
    const notRemembered = await post(
      '/api/v1/auth/second-factor/totp',
      { code: authenticatorCode(other.secret, web.env.clock.nowMs) },
      plain.json.token,
    );
    expect(notRemembered.json.stage).toBe('signed_in');
    expect(notRemembered.json.rememberedBrowser).toBeUndefined();
    // A malformed value is a 400 in the error shape, never a 5xx.
    const long = await apiSignIn(email, { rememberedBrowser: 'x'.repeat(200) });
    expect(long.status).toBe(400);
  });

  test('one rule for both edges: a browser remembered through the pages is recognized by the API, and one remembered through the API by the pages', async () => {
    const { email, secret } = await account({ totp: true });
    const client = web.client();
    await passwordStep(client, email);
    await client.get('/sign-in/two-factor');
    const step = await client.post('/sign-in/two-factor/totp', {
      code: authenticatorCode(secret, web.env.clock.nowMs),
      remember: 'yes',
    });
    expect(step.statusCode).toBe(303);
    web.env.clock.advance(30_000);
    const cookie = client.cookies.get(DEVICE) as string;
    expect((await apiSignIn(email, { rememberedBrowser: cookie })).json.stage).toBe('signed_in');

    const other = await account({ totp: true });
    const challenge = await apiSignIn(other.email);
    const done = await post(
      '/api/v1/auth/second-factor/totp',
      { code: authenticatorCode(other.secret, web.env.clock.nowMs), rememberBrowser: true },
      challenge.json.token,
    );
    web.env.clock.advance(30_000);
    const browser = web.client();
    browser.cookies.set(DEVICE, done.json.rememberedBrowser.token);
    expect((await passwordStep(browser, other.email)).headers.location).toBe('/settings/two-factor');
  });
});
