import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, describe, expect, test } from 'vitest';
import { createApiKey } from '../../src/service/admin/api-keys.js';
import { browserAvailable, newTestPage } from '../helpers/browser.js';
import { BROWSER_PASSWORD, uniqueEmail } from '../helpers/browser-flows.js';
import { createInPage, getInPage, startHostPage } from '../helpers/host-page.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { useSecurityKeysOn } from '../helpers/security-keys.js';
import { VirtualAuthenticator } from '../helpers/virtual-authenticator.js';
import { useServerAndBrowser } from '../helpers/web-server.js';
import { KEY_OPERATIONS_DRIVEN_IN_CHROMIUM } from './security-key-operations.js';

/** An answer of the API: the test reads whatever it holds and asserts on it. */
// biome-ignore lint/suspicious/noExplicitAny: JSON of any shape, checked by the assertions that read it.
type ApiAnswer = { status: number; json: Record<string, any> };

/**
 * The JSON API's security-key routes (issue 23), driven with real answers: Chromium's virtual authenticator
 * (CDP) answers navigator.credentials in a host application's own page, the test plays the app calling the
 * API over HTTP. STANDARDS req 62 (challenges single use and bound, origin verified) and req 57 (identity
 * from the session, the API key or the path: accepted requests repeated with extra fields are refused and
 * change nothing).
 */
describe.skipIf(!browserAvailable())('security keys through the JSON API, with Chromium', () => {
  let host: Awaited<ReturnType<typeof startHostPage>>;
  let stranger: Awaited<ReturnType<typeof startHostPage>>;
  const live = useServerAndBrowser(async (server) => {
    await configureRecoveryCodes(server.env);
    useSecurityKeysOn(server);
    host = await startHostPage();
    // A page the operator never listed: keys answer it, SpareKey must refuse what they answer.
    stranger = await startHostPage();
    const settings = server.env.deps.options.webauthn!;
    server.env.deps.options.webauthn = { ...settings, origins: [...settings.origins, host.url] };
  });
  afterAll(async () => {
    await host?.close();
    await stranger?.close();
  });

  /** Every call answered with a 2xx (method and path), to prove each security-key operation worked. */
  const exercised = new Set<string>();

  /** The API over HTTP (127.0.0.1: the server listens there; the pages use localhost). */
  async function api(
    method: string,
    path: string,
    options: { token?: string; body?: unknown } = {},
  ): Promise<ApiAnswer> {
    const response = await fetch(`${live.server.url.replace('localhost', '127.0.0.1')}/api/v1${path}`, {
      method,
      headers: {
        ...(options.token && { authorization: `Bearer ${options.token}` }),
        ...(options.body !== undefined && { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    if (response.status < 300) exercised.add(`${method} ${path}`);
    return { status: response.status, json: text ? JSON.parse(text) : {} };
  }

  async function hostPage(
    origin = host.url,
  ): Promise<{ context: BrowserContext; page: Page; key: VirtualAuthenticator }> {
    const { context, page } = await newTestPage(live.browser);
    await page.goto(origin);
    const key = await VirtualAuthenticator.attach(context, page, 'internal');
    return { context, page, key };
  }

  const events = (action: string) =>
    live.server.env.deps.store.listAuditEvents({ action: action as never, limit: 5 });

  async function signedInUser(): Promise<{ email: string; token: string }> {
    const email = uniqueEmail('api-key');
    expect((await api('POST', '/auth/sign-up', { body: { email, password: BROWSER_PASSWORD } })).status).toBe(
      202,
    );
    const signedIn = await api('POST', '/auth/sign-in', { body: { email, password: BROWSER_PASSWORD } });
    expect(signedIn.json.stage).toBe('signed_in');
    return { email, token: signedIn.json.token };
  }

  /** Adds a key through the session API from `page`; returns the new token and the answer. */
  async function registerMine(page: Page, token: string, name: string) {
    const started = await api('POST', '/me/security-keys/registration-options', { token });
    expect(started.status).toBe(200);
    const response = await createInPage(page, started.json.options);
    const registered = await api('POST', '/me/security-keys', { token, body: { name, response } });
    return { registered, response };
  }

  test('end user: register, list, sign in with the key as the second step, remove after a key step-up', async () => {
    const { email, token } = await signedInUser();
    const { context, page } = await hostPage();

    // An accepted registration repeated with identity and privilege fields is refused, and adds nothing.
    const started = await api('POST', '/me/security-keys/registration-options', { token });
    const answer = await createInPage(page, started.json.options);
    for (const extra of [{ userId: 'someone-else' }, { roles: ['administrator'] }, { binding: 'x' }]) {
      const refused = await api('POST', '/me/security-keys', {
        token,
        body: { name: 'Laptop', response: answer, ...extra },
      });
      expect(refused.status).toBe(400);
      expect(refused.json.error.code).toEqual(expect.any(String));
    }
    expect((await api('GET', '/me/security-keys', { token })).json.securityKeys).toEqual([]);
    const registered = await api('POST', '/me/security-keys', {
      token,
      body: { name: 'Laptop', response: answer },
    });
    expect(registered.status).toBe(201);
    // The first factor: two-factor on, the recovery codes shown once, and the old token is dead.
    expect(registered.json.mfaEnabled).toBe(true);
    expect(registered.json.recoveryCodes.codes).toHaveLength(10);
    const afterKey = registered.json.token as string;
    expect(afterKey).not.toBe(token);
    expect((await api('GET', '/me/security-keys', { token })).status).toBe(401);

    const listed = await api('GET', '/me/security-keys', { token: afterKey });
    expect(listed.json.securityKeys).toEqual([
      {
        id: expect.any(String),
        name: 'Laptop',
        deviceType: expect.stringMatching(/^(singleDevice|multiDevice)$/),
        backedUp: expect.any(Boolean),
        addedAt: expect.any(String),
        lastUsedAt: null,
      },
    ]);
    const keyId = listed.json.securityKeys[0].id as string;
    expect((await api('GET', '/me/mfa', { token: afterKey })).json.factors).toEqual([
      { id: keyId, kind: 'webauthn' },
    ]);
    const renamed = await api('POST', `/me/security-keys/${keyId}/rename`, {
      token: afterKey,
      body: { name: 'Work laptop' },
    });
    expect(renamed.json).toEqual({ name: 'Work laptop' });

    // Sign-in: the key is offered, and its answer completes the second step like an authenticator code.
    const pending = await api('POST', '/auth/sign-in', { body: { email, password: BROWSER_PASSWORD } });
    expect(pending.json).toMatchObject({
      stage: 'second_factor',
      secondFactors: { securityKey: true, totp: false },
    });
    const challenge = await api('POST', '/auth/second-factor/security-key/options', {
      token: pending.json.token,
    });
    expect(challenge.status).toBe(200);
    expect(challenge.json.options.allowCredentials).toHaveLength(1);
    const assertion = await getInPage(page, challenge.json.options);
    const withExtra = await api('POST', '/auth/second-factor/security-key', {
      token: pending.json.token,
      body: { response: assertion, userId: 'someone-else', stage: 'signed_in' },
    });
    expect(withExtra.status).toBe(400);
    const done = await api('POST', '/auth/second-factor/security-key', {
      token: pending.json.token,
      body: { response: assertion, rememberBrowser: false },
    });
    expect(done.status).toBe(200);
    expect(done.json.stage).toBe('signed_in');
    const session = done.json.token as string;
    expect((await api('GET', '/me/mfa', { token: session })).status).toBe(200);
    const [signIn] = await events('sign_in');
    expect(signIn?.details).toMatchObject({ method: 'webauthn' });
    expect(
      (await api('GET', '/me/security-keys', { token: session })).json.securityKeys[0].lastUsedAt,
    ).toEqual(expect.any(String));

    // The challenge was single use: the same answer at the next sign-in is refused.
    const again = await api('POST', '/auth/sign-in', { body: { email, password: BROWSER_PASSWORD } });
    const replayed = await api('POST', '/auth/second-factor/security-key', {
      token: again.json.token,
      body: { response: assertion },
    });
    expect(replayed.status).toBe(400);
    expect(replayed.json.error.code).toBe('webauthn_challenge_invalid');

    // A second key (a USB one) so the first can be removed; removal needs a step-up, here with a key.
    const usb = await VirtualAuthenticator.attach(context, page, 'usb');
    const second = await registerMine(page, session, 'YubiKey 5C');
    expect(second.registered.status).toBe(201);
    expect(second.registered.json.recoveryCodes).toBeNull();
    let current = second.registered.json.token as string;
    const wrong = await api('POST', `/me/factors/${keyId}/remove`, {
      token: current,
      body: { password: 'not it' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe('step_up_failed');
    const stepUp = await api('POST', '/me/step-up/security-key-options', { token: current });
    expect(stepUp.status).toBe(200);
    const proof = await getInPage(page, stepUp.json.options);
    const stepUpExtra = await api('POST', `/me/factors/${keyId}/remove`, {
      token: current,
      body: { securityKey: proof, userId: 'someone-else' },
    });
    expect(stepUpExtra.status).toBe(400);
    expect((await api('GET', '/me/security-keys', { token: current })).json.securityKeys).toHaveLength(2);
    const removed = await api('POST', `/me/factors/${keyId}/remove`, {
      token: current,
      body: { securityKey: proof },
    });
    expect(removed.status).toBe(200);
    current = removed.json.token;
    const left = (await api('GET', '/me/security-keys', { token: current })).json.securityKeys;
    expect(left.map((key: { name: string }) => key.name)).toEqual(['YubiKey 5C']);
    const [stepUpEvent] = await events('step_up');
    expect(stepUpEvent?.details).toMatchObject({ method: 'webauthn' });
    await usb.remove();
    await context.close();
  });

  test('passkey sign-in: a resident key with user verification signs in without a password, once per challenge', async () => {
    const { token } = await signedInUser();
    const { context, page } = await hostPage();
    const { registered } = await registerMine(page, token, 'Phone');
    expect(registered.status).toBe(201);

    const started = await api('POST', '/auth/passkey/options', {});
    expect(started.status).toBe(200);
    expect(started.json.ceremonyId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // No account is named: the browser offers the passkeys it holds for this site.
    expect(started.json.options.allowCredentials ?? []).toEqual([]);
    expect(started.json.options.userVerification).toBe('required');
    const answer = await getInPage(page, started.json.options);
    const body = { ceremonyId: started.json.ceremonyId, response: answer };
    for (const extra of [{ userId: 'someone-else' }, { email: 'admin@example.test' }, { stage: 'signed_in' }])
      expect((await api('POST', '/auth/passkey', { body: { ...body, ...extra } })).status).toBe(400);
    const signedIn = await api('POST', '/auth/passkey', { body });
    expect(signedIn.status).toBe(200);
    expect(signedIn.json.stage).toBe('signed_in');
    expect(
      (await api('GET', '/me/security-keys', { token: signedIn.json.token })).json.securityKeys,
    ).toHaveLength(1);
    const [event] = await events('sign_in');
    expect(event?.details).toMatchObject({ method: 'passkey' });
    const replayed = await api('POST', '/auth/passkey', { body });
    expect(replayed.status).toBe(400);
    expect(replayed.json.error.code).toBe('webauthn_challenge_invalid');
    await context.close();
  });

  test('a key answering a page on an origin the operator did not list is refused, at registration and sign-in', async () => {
    const { email, token } = await signedInUser();
    const { context, page } = await hostPage(stranger.url);
    const started = await api('POST', '/me/security-keys/registration-options', { token });
    const answer = await createInPage(page, started.json.options);
    const refused = await api('POST', '/me/security-keys', {
      token,
      body: { name: 'Key', response: answer },
    });
    expect(refused.status).toBe(401);
    expect(refused.json.error.code).toBe('security_key_failed');
    const [event] = await events('webauthn_registration_failed');
    expect(String(event?.details.reason)).toContain('origin');
    expect((await api('GET', '/me/security-keys', { token })).json.securityKeys).toEqual([]);

    // Registered from the listed origin, the same key answering the unlisted page at sign-in is refused.
    await page.goto(host.url);
    const { registered } = await registerMine(page, token, 'Key');
    expect(registered.status).toBe(201);
    await page.goto(stranger.url);
    const pending = await api('POST', '/auth/sign-in', { body: { email, password: BROWSER_PASSWORD } });
    const challenge = await api('POST', '/auth/second-factor/security-key/options', {
      token: pending.json.token,
    });
    const assertion = await getInPage(page, challenge.json.options);
    const signIn = await api('POST', '/auth/second-factor/security-key', {
      token: pending.json.token,
      body: { response: assertion },
    });
    expect(signIn.status).toBe(401);
    expect(signIn.json.error.code).toBe('security_key_failed');
    const [failed] = await events('webauthn_failed');
    expect(String(failed?.details.reason)).toContain('origin');
    await context.close();
  });

  test.each(['external-users', 'users'] as const)(
    'by user id (/%s/...) with an API key: register, list, verify (once), remove; scopes and extra fields refused',
    async (addressing) => {
      const deps = live.server.env.deps;
      const write = await createApiKey(deps, { name: 'host backend', scopes: ['mfa:write'], context: {} });
      const read = await createApiKey(deps, { name: 'host reader', scopes: ['mfa:read'], context: {} });
      const codesOnly = await createApiKey(deps, {
        name: 'codes',
        scopes: ['recovery_codes:write'],
        context: {},
      });
      if (!write.ok || !read.ok || !codesOnly.ok) throw new Error('api keys');
      const key = write.value.key;
      const externalId = `host-${Date.now()}`;
      const ensured = await api('PUT', `/external-users/${externalId}`, { token: key, body: {} });
      expect(ensured.status).toBe(201);
      const userId = ensured.json.userId as string;
      // The same operations by the host's own id and by SpareKey's.
      const base =
        addressing === 'users'
          ? `/users/${userId}/security-keys`
          : `/external-users/${externalId}/security-keys`;
      const { context, page } = await hostPage();

      expect((await api('POST', `${base}/registration-options`, { token: codesOnly.value.key })).status).toBe(
        403,
      );
      const started = await api('POST', `${base}/registration-options`, { token: key });
      expect(started.status).toBe(200);
      expect(started.json.ceremonyId).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const answer = await createInPage(page, started.json.options);
      const body = { ceremonyId: started.json.ceremonyId, name: 'Phone', response: answer };
      for (const extra of [{ userId: 'someone-else' }, { externalId: 'other' }, { scopes: ['admin'] }]) {
        expect((await api('POST', base, { token: key, body: { ...body, ...extra } })).status).toBe(400);
      }
      // Another ceremony's id does not fit this answer's challenge.
      const otherCeremony = await api('POST', `${base}/registration-options`, { token: key });
      const mismatched = await api('POST', base, {
        token: key,
        body: { ...body, ceremonyId: otherCeremony.json.ceremonyId },
      });
      expect(mismatched.json.error?.code).toBe('webauthn_challenge_invalid');
      const registered = await api('POST', base, { token: key, body });
      expect(registered.status).toBe(201);
      expect(registered.json.mfaEnabled).toBe(true);
      expect(registered.json.recoveryCodes.codes).toHaveLength(10);

      // Listed for a reading key, by the host's id and by SpareKey's; a key without the scope is refused.
      const listed = await api('GET', base, { token: read.value.key });
      expect(listed.json.securityKeys.map((k: { name: string }) => k.name)).toEqual(['Phone']);
      expect((await api('GET', `/users/${userId}/security-keys`, { token: read.value.key })).json).toEqual(
        listed.json,
      );
      expect((await api('GET', base, { token: codesOnly.value.key })).status).toBe(403);
      const firstKeyId = listed.json.securityKeys[0].id as string;

      // The second factor on the host's own sign-in page.
      const challenge = await api('POST', `${base}/authentication-options`, { token: key });
      expect(challenge.status).toBe(200);
      const assertion = await getInPage(page, challenge.json.options);
      const verify = { ceremonyId: challenge.json.ceremonyId, response: assertion };
      expect(
        (await api('POST', `${base}/verify`, { token: key, body: { ...verify, userId: 'x' } })).status,
      ).toBe(400);
      const verified = await api('POST', `${base}/verify`, { token: key, body: verify });
      expect(verified.status).toBe(200);
      expect(verified.json).toEqual({ factorId: firstKeyId });
      const replayed = await api('POST', `${base}/verify`, { token: key, body: verify });
      expect(replayed.status).toBe(400);
      expect(replayed.json.error.code).toBe('webauthn_challenge_invalid');

      // Another user's path never takes this user's answer: the challenge is bound to the user too.
      const other = await api('PUT', `/external-users/${externalId}-other`, { token: key, body: {} });
      expect(other.status).toBe(201);
      const fresh = await api('POST', `${base}/authentication-options`, { token: key });
      const freshAnswer = await getInPage(page, fresh.json.options);
      const crossed = await api('POST', `/users/${other.json.userId}/security-keys/verify`, {
        token: key,
        body: { ceremonyId: fresh.json.ceremonyId, response: freshAnswer },
      });
      expect(crossed.status).toBe(400);

      // Removing: never the last factor; with a second key, the first goes (the host stepped its user up).
      expect((await api('DELETE', `${base}/${firstKeyId}`, { token: key })).json.error.code).toBe(
        'last_factor',
      );
      const usb = await VirtualAuthenticator.attach(context, page, 'usb');
      const again = await api('POST', `${base}/registration-options`, { token: key });
      const secondAnswer = await createInPage(page, again.json.options);
      const second = await api('POST', base, {
        token: key,
        body: { ceremonyId: again.json.ceremonyId, name: 'YubiKey', response: secondAnswer },
      });
      // Not the first factor: two-factor was on already, and the codes stay the ones shown before.
      expect(second.json).toEqual({ factorId: expect.any(String), mfaEnabled: false, recoveryCodes: null });
      expect((await api('DELETE', `${base}/${firstKeyId}`, { token: read.value.key })).status).toBe(403);
      expect((await api('DELETE', `${base}/${firstKeyId}`, { token: key })).status).toBe(204);
      expect(
        (await api('GET', base, { token: key })).json.securityKeys.map((k: { name: string }) => k.name),
      ).toEqual(['YubiKey']);
      expect((await api('DELETE', `${base}/${firstKeyId}`, { token: key })).status).toBe(404);
      await usb.remove();
      await context.close();
    },
  );

  test('every security-key operation of the OpenAPI document answered a 2xx above', async () => {
    const spec = (await (
      await fetch(`${live.server.url.replace('localhost', '127.0.0.1')}/openapi.json`)
    ).json()) as {
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    const operations = Object.entries(spec.paths).flatMap(([path, byMethod]) =>
      Object.entries(byMethod).map(([method, operation]) => ({ path, method, id: operation.operationId })),
    );
    // The list api.test.ts leaves to this file is every key operation, no more and no less.
    const keyOperations = operations.filter((operation) => /SecurityKey|Passkey/.test(operation.id));
    expect(keyOperations.map((operation) => operation.id).sort()).toEqual(
      [...KEY_OPERATIONS_DRIVEN_IN_CHROMIUM].sort(),
    );
    const missing = keyOperations.filter(({ path, method }) => {
      const pattern = new RegExp(`^/api/v1${path.replace(/^\/api\/v1/, '').replace(/\{\w+\}/g, '[^/]+')}$`);
      return ![...exercised].some((entry) => {
        const [calledMethod, calledPath] = entry.split(' ');
        return calledMethod === method.toUpperCase() && pattern.test(`/api/v1${calledPath}`);
      });
    });
    expect(missing.map((operation) => operation.id)).toEqual([]);
  });
});
