import * as oidc from 'openid-client';
import { describe, expect, test } from 'vitest';
import { browserAvailable, newTestPage } from '../helpers/browser.js';
import {
  acknowledgeCodes,
  currentCode,
  setUpAuthenticator,
  signOut,
  signUp,
  uniqueEmail,
} from '../helpers/browser-flows.js';
import { startRelyingParty } from '../helpers/oidc-relying-party.js';
import {
  issuerOf,
  landedOnApp,
  passwordOnSpareKey,
  registerApp,
  totpOnSpareKey,
  useProviderWorld,
} from '../helpers/oidc-world.js';

describe.skipIf(!browserAvailable())('what an application may ask, and what it is refused', () => {
  const world = useProviderWorld();

  test('prompt=login: a person already signed in is asked to sign in again, and auth_time moves on', async () => {
    const { server, rp, browser } = world;
    await registerApp(server, rp);
    const { context, page } = await newTestPage(browser);
    try {
      const email = uniqueEmail('oidc-prompt');
      await signUp(page, server, email);
      const { secret } = await setUpAuthenticator(page, server);
      await acknowledgeCodes(page);
      await signOut(page);
      await page.goto(`${rp.url}/login`);
      await passwordOnSpareKey(page, email);
      await totpOnSpareKey(page, server, secret);
      await landedOnApp(page, rp);
      const first = rp.results.at(-1)?.claims;

      // Without prompt=login the same browser goes straight through (the SpareKey session stands).
      await page.goto(`${rp.url}/login`);
      await landedOnApp(page, rp);
      expect(rp.results.at(-1)?.claims?.auth_time).toBe(first?.auth_time);

      server.env.clock.advance(60_000);
      await page.goto(`${rp.url}/login?prompt=login`);
      await passwordOnSpareKey(page, email);
      await totpOnSpareKey(page, server, secret);
      await landedOnApp(page, rp);
      const again = rp.results.at(-1)?.claims;
      expect(again?.amr).toEqual(['pwd', 'otp', 'mfa']);
      expect(Number(again?.auth_time)).toBeGreaterThan(Number(first?.auth_time));
    } finally {
      await context.close();
    }
  });

  test('a two-factor-required application and a person without a second factor: set one up, save the codes, then back; never a one-factor sign-in', async () => {
    const { server, browser } = world;
    const rp = await startRelyingParty();
    try {
      const { clientId } = await registerApp(server, rp, { twoFactorRequired: true });
      const { context, page } = await newTestPage(browser);
      const email = uniqueEmail('oidc-2fa-required');
      await signUp(page, server, email);
      await signOut(page);
      await page.goto(`${rp.url}/login`);
      await passwordOnSpareKey(page, email);
      // The password alone is not enough for this application: on to setting up a second factor.
      await page.waitForURL(/\/settings\/two-factor\?return_to=/);
      expect(await page.getByText('The app you opened requires two-factor authentication').isVisible()).toBe(
        true,
      );
      await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      await page.getByText("Can't scan it?").click();
      const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '');
      await page.getByLabel('Enter the 6-digit code your app shows').fill(currentCode(server, secret));
      await page.getByRole('button', { name: 'Verify and turn on' }).click();
      // The recovery codes are shown and must be saved before the application is reached.
      await page.getByLabel('I have saved these codes').check();
      await page.getByRole('button', { name: 'Done' }).click();
      await landedOnApp(page, rp);
      expect(rp.results).toHaveLength(1);
      expect(rp.results[0]?.claims).toMatchObject({ aud: clientId, amr: ['pwd', 'otp', 'mfa'] });
      const events = await server.env.deps.store.listAuditEvents({ limit: 50, action: 'oidc_sign_in' });
      const forThisApp = events.filter((event) => event.details.client_id === clientId);
      expect(forThisApp.map((event) => event.details.amr)).toEqual(['pwd otp mfa']);
      await context.close();
    } finally {
      await rp.close();
    }
  });

  test('a third-party application asks for consent: deny tells it access_denied, allow signs in', async () => {
    const { server, browser } = world;
    const rp = await startRelyingParty();
    try {
      await registerApp(server, rp, { firstParty: false, name: 'Outside App' });
      const { context, page } = await newTestPage(browser);
      const email = uniqueEmail('oidc-consent');
      await signUp(page, server, email);
      await page.goto(`${rp.url}/login`);
      await page.getByRole('heading', { name: 'Allow Outside App to sign you in?' }).waitFor();
      expect(await page.locator('#consent-scopes li').allTextContents()).toEqual([
        'Know who you are on SpareKey (an identifier)',
        'See your email address',
        'See your name',
        'See your roles',
      ]);
      await page.getByRole('button', { name: 'Deny' }).click();
      await landedOnApp(page, rp);
      expect(rp.results.at(-1)).toMatchObject({ error: 'access_denied' });

      await page.goto(`${rp.url}/login`);
      await page.getByRole('button', { name: 'Allow' }).click();
      await landedOnApp(page, rp);
      expect(rp.results.at(-1)?.claims?.email).toBe(email);
      // Once allowed, not asked again.
      await page.goto(`${rp.url}/login`);
      await landedOnApp(page, rp);
      expect(rp.results).toHaveLength(3);
      await context.close();
    } finally {
      await rp.close();
    }
  });

  test('RP-initiated logout: confirmed on SpareKey, back at the application, and the SpareKey session is over', async () => {
    const { server, browser } = world;
    const rp = await startRelyingParty();
    try {
      await registerApp(server, rp);
      const { context, page } = await newTestPage(browser);
      const email = uniqueEmail('oidc-logout');
      await signUp(page, server, email);
      await page.goto(`${rp.url}/login`);
      await landedOnApp(page, rp);
      const idToken = rp.results.at(-1)?.tokens?.id_token as string;
      const endSession = oidc.buildEndSessionUrl(rp.config(), {
        id_token_hint: idToken,
        post_logout_redirect_uri: rp.postLogoutUrl,
      });
      expect(endSession.href.startsWith(`${issuerOf(server)}/session/end`)).toBe(true);
      await page.goto(endSession.href);
      await page.getByRole('button', { name: 'Yes, sign me out' }).click();
      await page.waitForURL(`${rp.postLogoutUrl}**`);
      // The next sign-in through the application needs the password again.
      await page.goto(`${rp.url}/login`);
      await page.waitForURL(/\/sign-in\?/);
      await context.close();
    } finally {
      await rp.close();
    }
  });
});
