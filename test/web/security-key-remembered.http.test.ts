import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { enableSecurityKeys, registerSoftKey } from '../helpers/security-keys.js';
import type { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { createWebTestApp, type FormClient, type WebTestApp } from '../helpers/web-client.js';
import { passwordStep, signUpThroughPages } from '../helpers/web-flows.js';

const DEVICE = '__Host-sparekey_device';

/**
 * Issue 23 with issue 8.2: a second step answered with a security key and "Don't ask again on this browser
 * for 30 days" ticked remembers the browser like any other factor, so the next sign-in skips the step.
 * Over HTTP with the software authenticator; the browser's own ceremony is tested in Chromium elsewhere.
 */
describe('remembered browsers with a security key over HTTP', () => {
  let web: WebTestApp;
  beforeAll(async () => {
    web = await createWebTestApp();
    enableSecurityKeys(web.env);
    await configureRecoveryCodes(web.env);
  });
  afterAll(async () => web?.close());

  let counter = 0;
  /** A user whose only second factor is a key, and a fresh client at the second sign-in step. */
  async function userWithKeyAtSecondStep() {
    counter += 1;
    const email = `key-remembered-${counter}@example.test`;
    await signUpThroughPages(web.client(), email);
    const userId = (await web.env.deps.store.findUserByEmail(email))?.id as string;
    const { key } = await registerSoftKey(web.env, userId);
    const client = web.client();
    expect(await afterPassword(client, email)).toBe('/sign-in/two-factor');
    return { client, email, userId, key };
  }

  async function afterPassword(client: FormClient, email: string): Promise<string | undefined> {
    return (await passwordStep(client, email)).headers.location as string | undefined;
  }

  /** The second step's key form, as public/webauthn.js runs it: options, the key's answer, the post. */
  async function answerWithKey(client: FormClient, key: SoftAuthenticator, fields: Record<string, string>) {
    const page = await client.get('/sign-in/two-factor');
    const keyForm = page.body.match(/<form[^>]*id="use-security-key"[\s\S]*?<\/form>/)?.[0] ?? '';
    expect(keyForm).toMatch(/<input type="checkbox" id="remember-key" name="remember" value="yes">/);
    const options = await client.post('/sign-in/two-factor/security-key/options', {});
    expect(options.statusCode, options.body).toBe(200);
    const response = key.assert(options.json().options);
    web.env.clock.advance(1000);
    return client.post('/sign-in/two-factor/security-key', { response: JSON.stringify(response), ...fields });
  }

  async function signOut(client: FormClient) {
    await client.get('/settings/two-factor');
    await client.post('/sign-out', {});
  }

  test('the key with the box ticked sets the device cookie; the next sign-in skips the second step, audited', async () => {
    const { client, email, userId, key } = await userWithKeyAtSecondStep();
    const answered = await answerWithKey(client, key, { remember: 'yes' });
    expect(answered.statusCode, answered.body).toBe(303);
    const cookie = answered.cookies.find((c) => c.name === DEVICE);
    expect(cookie).toMatchObject({ httpOnly: true, secure: true });
    const [used] = await web.env.deps.store.listAuditEvents({ userId, action: 'sign_in', limit: 1 });
    expect(used?.details).toMatchObject({ method: 'webauthn' });
    expect(await web.env.deps.store.listRememberedDevices(userId, web.env.clock.now())).toHaveLength(1);

    await signOut(client);
    expect(await afterPassword(client, email)).toBe('/settings/two-factor');
    const [skipped] = await web.env.deps.store.listAuditEvents({ userId, action: 'sign_in', limit: 1 });
    expect(skipped?.details).toMatchObject({ method: 'remembered_device' });
    // Skipping the step did not touch the key.
    expect((await web.env.deps.store.listWebauthnCredentials(userId))[0]?.counter).toBe(1);
  });

  test('the key without the box: nothing is remembered and the next sign-in asks for the key again', async () => {
    const { client, email, userId, key } = await userWithKeyAtSecondStep();
    const answered = await answerWithKey(client, key, {});
    expect(answered.statusCode, answered.body).toBe(303);
    expect(answered.cookies.some((c) => c.name === DEVICE)).toBe(false);
    expect(await web.env.deps.store.listRememberedDevices(userId, web.env.clock.now())).toEqual([]);
    await signOut(client);
    expect(await afterPassword(client, email)).toBe('/sign-in/two-factor');
  });

  test('a refused key answer remembers nothing, even with the box ticked', async () => {
    const { client, email, userId, key } = await userWithKeyAtSecondStep();
    const page = await client.get('/sign-in/two-factor');
    expect(page.statusCode).toBe(200);
    const options = (await client.post('/sign-in/two-factor/security-key/options', {})).json().options;
    const wrongOrigin = key.assert(options, { origin: 'https://evil.example' });
    const refused = await client.post('/sign-in/two-factor/security-key', {
      response: JSON.stringify(wrongOrigin),
      remember: 'yes',
    });
    expect(refused.statusCode).toBe(401);
    expect(refused.cookies.some((c) => c.name === DEVICE)).toBe(false);
    expect(await web.env.deps.store.listRememberedDevices(userId, web.env.clock.now())).toEqual([]);
    expect(await afterPassword(web.client(), email)).toBe('/sign-in/two-factor');
  });
});
