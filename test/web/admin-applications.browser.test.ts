import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { browserAvailable, newTestPage, screenshotTo } from '../helpers/browser.js';
import { signUp, uniqueEmail } from '../helpers/browser-flows.js';
import { issuerOf, landedOnApp, useProviderWorld } from '../helpers/oidc-world.js';

/**
 * Issue 22, Administration → Applications in Chromium, proven with a real application: an administrator
 * registers it on the page, copies the client id and the secret shown once, and an openid-client relying
 * party signs in with them; disabling stops it, rotating the secret ends the old one, the statistics count
 * the sign-ins, and deleting removes it. Also takes docs/screenshots/admin-applications.png.
 */
describe.skipIf(!browserAvailable())('Administration → Applications in Chromium', () => {
  const world = useProviderWorld();

  const signInThroughApp = async (page: Page) => {
    await page.goto(`${world.rp.url}/login`);
    return landedOnApp(page, world.rp);
  };

  test('register on the page, sign in to the app with the secret shown once, disable, rotate, count, delete', async () => {
    const { server, rp, browser } = world;
    const { context, page } = await newTestPage(browser, { viewport: { width: 1280, height: 900 } });
    try {
      const email = uniqueEmail('apps-admin');
      await signUp(page, server, email);
      const admin = await server.env.deps.store.findUserByEmail(email);
      await server.env.deps.store.setUserRoles(admin?.id as string, ['administrator']);
      await page.goto(`${server.url}/admin`);
      await page
        .getByRole('navigation', { name: 'Administration' })
        .getByRole('link', { name: 'Applications' })
        .click();
      await page.waitForURL(/\/admin\/applications$/);
      expect(await page.locator('#issuer').textContent()).toBe(issuerOf(server));

      // A refusal first: in words, with what was typed kept.
      await page.getByLabel('Name (shown to people on the consent page)').fill('Grafana');
      await page.getByLabel(/^Redirect URIs/).fill('http://grafana.example.test/login/generic_oauth');
      await page.getByRole('button', { name: 'Register application' }).click();
      expect(await page.getByRole('alert').textContent()).toContain('https');
      expect(await page.getByLabel('Name (shown to people on the consent page)').inputValue()).toBe(
        'Grafana',
      );

      await page.getByLabel(/^Redirect URIs/).fill(rp.callbackUrl);
      await page.getByLabel(/^Post-logout redirect URIs/).fill(rp.postLogoutUrl);
      await page.getByLabel(/^Confidential/).check();
      // This administrator signs in with a password only: the app takes one factor, and is first-party.
      await page.getByLabel(/^Two-factor required/).uncheck();
      await page.getByLabel(/^First-party/).check();
      await page.getByLabel(/^groups/).check();
      await page.getByRole('button', { name: 'Register application' }).click();
      const clientId = (await page.locator('#new-client-id').textContent()) as string;
      const secret = (await page.locator('#new-client-secret').textContent()) as string;
      expect(clientId).toMatch(/^app_/);
      expect(secret).toMatch(/^sks_/);
      // Opened again (not reloaded: that would send the form again), the secret is gone.
      await page.goto(`${server.url}/admin/applications`);
      expect(await page.content()).not.toContain(secret);
      const row = page.locator(`tr[data-client-id="${clientId}"]`);
      expect(await row.textContent()).toContain('Grafana');

      // The application, configured with what the page showed, signs the administrator in.
      await rp.configure({ issuer: issuerOf(server), clientId, clientSecret: secret });
      expect(await signInThroughApp(page)).toMatch(/^signed in as /);
      expect(rp.results.at(-1)?.claims).toMatchObject({ aud: clientId, email, amr: ['pwd'] });

      // Disabled: the application cannot start a sign-in; SpareKey shows an error and never redirects.
      await page.goto(`${server.url}/admin/applications`);
      await row.getByRole('button', { name: 'Disable Grafana' }).click();
      await page.waitForURL(/notice=application-disabled/);
      const before = rp.results.length;
      await page.goto(`${rp.url}/login`);
      await page.waitForLoadState('load');
      expect(page.url().startsWith(server.url)).toBe(true);
      expect(rp.results.length).toBe(before);
      await page.goto(`${server.url}/admin/applications`);
      await row.getByRole('button', { name: 'Enable Grafana' }).click();
      await page.waitForURL(/notice=application-enabled/);

      // A new secret, shown once: the old one is refused at the token endpoint, the new one works.
      await row.getByRole('button', { name: 'Rotate the secret of Grafana' }).click();
      const rotated = (await page.locator('#new-client-secret').textContent()) as string;
      expect(rotated).not.toBe(secret);
      expect(await signInThroughApp(page)).not.toMatch(/^signed in as /);
      expect(rp.results.at(-1)?.error).toBeDefined();
      await rp.configure({ issuer: issuerOf(server), clientId, clientSecret: rotated });
      expect(await signInThroughApp(page)).toMatch(/^signed in as /);

      // The statistics count every sign-in (authorization) through the application.
      const signIns = (
        await server.env.deps.store.listAuditEvents({ action: 'oidc_sign_in', limit: 50 })
      ).filter((event) => event.details.client_id === clientId);
      expect(signIns.length).toBe(3);
      await page.goto(`${server.url}/admin`);
      const counted = page.locator(`#sign-ins-by-application tr[data-client-id="${clientId}"] td`);
      expect(await counted.allTextContents()).toEqual(['Grafana', '3', '3']);

      // A second application for the screenshot, then the page as an administrator sees it.
      await page.goto(`${server.url}/admin/applications`);
      await page.getByLabel('Name (shown to people on the consent page)').fill('Gitea');
      await page.getByLabel(/^Redirect URIs/).fill('https://git.example.com/user/oauth2/SpareKey/callback');
      await page.getByRole('button', { name: 'Register application' }).click();
      await page.goto(`${server.url}/admin/applications`);
      await screenshotTo(page, 'admin-applications.png');

      await row.getByRole('button', { name: 'Delete Grafana' }).click();
      await page.waitForURL(/notice=application-deleted/);
      expect(await page.locator(`tr[data-client-id="${clientId}"]`).count()).toBe(0);
      expect(await server.env.deps.store.findOidcClient(clientId)).toBeUndefined();
    } finally {
      await context.close();
    }
  }, 120_000);
});
