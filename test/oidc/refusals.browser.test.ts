import { describe, expect, test } from 'vitest';
import { setOidcClientDisabled } from '../../src/service/oidc/clients.js';
import { browserAvailable, newTestPage } from '../helpers/browser.js';
import { signUp, uniqueEmail } from '../helpers/browser-flows.js';
import { startRelyingParty } from '../helpers/oidc-relying-party.js';
import { issuerOf, landedOnApp, registerApp, useProviderWorld } from '../helpers/oidc-world.js';

/** What the provider refuses, each asserted where an application or a person would see it. */
describe.skipIf(!browserAvailable())('refusals', () => {
  const world = useProviderWorld();
  const token = (issuer: string, body: Record<string, string>, auth?: string) =>
    fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {}),
      },
      body: new URLSearchParams(body),
    });

  test('a public client without PKCE is refused at the authorization endpoint', async () => {
    const rp = await startRelyingParty({ withoutPkce: true });
    try {
      await registerApp(world.server, rp, { kind: 'public' });
      const { context, page } = await newTestPage(world.browser);
      await signUp(page, world.server, uniqueEmail('oidc-nopkce'));
      await page.goto(`${rp.url}/login`);
      await landedOnApp(page, rp);
      expect(rp.results.at(-1)?.callbackQuery).toMatchObject({ error: 'invalid_request' });
      expect(rp.results.at(-1)?.callbackQuery.error_description).toMatch(/PKCE/);
      await context.close();
    } finally {
      await rp.close();
    }
  });

  test('a redirect URI that is not registered exactly: an error page on SpareKey, never a redirect', async () => {
    const rp = await startRelyingParty();
    try {
      await registerApp(world.server, rp);
      const wrong = await startRelyingParty({ redirectUriOverride: `${rp.callbackUrl}/extra` });
      const { clientId } = await registerApp(world.server, rp);
      await wrong.configure({ issuer: issuerOf(world.server), clientId });
      const { context, page } = await newTestPage(world.browser);
      const response = await page.goto(`${wrong.url}/login`);
      expect(page.url().startsWith(world.server.url)).toBe(true);
      expect(response?.status()).toBe(400);
      expect(await page.locator('#oidc-error').textContent()).toBe('invalid_redirect_uri');
      expect(wrong.results).toHaveLength(0);
      await context.close();
      await wrong.close();
    } finally {
      await rp.close();
    }
  });

  test('a replayed authorization code is refused, and the tokens issued from it are revoked', async () => {
    const { server, rp, browser } = world;
    const { clientId, secret } = await registerApp(server, rp);
    const { context, page } = await newTestPage(browser);
    await signUp(page, server, uniqueEmail('oidc-replay'));
    await page.goto(`${rp.url}/login`);
    await landedOnApp(page, rp);
    await context.close();
    const first = rp.results.at(-1);
    const accessToken = first?.tokens?.access_token as string;
    const userinfo = () =>
      fetch(`${issuerOf(server)}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect((await userinfo()).status).toBe(200);
    const replay = await token(
      issuerOf(server),
      {
        grant_type: 'authorization_code',
        code: String(first?.callbackQuery.code),
        redirect_uri: rp.callbackUrl,
        // Everything right but the code's second use.
        code_verifier: String(first?.codeVerifier),
      },
      `${clientId}:${secret}`,
    );
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: string }).error).toBe('invalid_grant');
    expect((await userinfo()).status).toBe(401);
  });

  test('a wrong client secret is refused (invalid_client); a disabled client cannot start a sign-in', async () => {
    const { server, browser } = world;
    const rp = await startRelyingParty();
    try {
      const { clientId } = await registerApp(server, rp);
      const wrongSecret = await token(
        issuerOf(server),
        { grant_type: 'authorization_code', code: 'whatever', redirect_uri: rp.callbackUrl },
        `${clientId}:sks_not-the-secret`,
      );
      expect(wrongSecret.status).toBe(401);
      expect(((await wrongSecret.json()) as { error: string }).error).toBe('invalid_client');

      await setOidcClientDisabled(server.env.deps, { id: clientId, disabled: true, context: {} });
      const { context, page } = await newTestPage(browser);
      const response = await page.goto(`${rp.url}/login`);
      expect(page.url().startsWith(server.url)).toBe(true);
      expect(response?.status()).toBe(400);
      expect(await page.locator('#oidc-error').textContent()).toBe('invalid_client');
      await context.close();
    } finally {
      await rp.close();
    }
  });
});
