import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { browserAvailable, newTestPage, screenshotTo } from '../helpers/browser.js';
import {
  acknowledgeCodes,
  BROWSER_PASSWORD,
  codesOnPage,
  signInWithPassword,
  signOut,
  signUp,
  uniqueEmail,
} from '../helpers/browser-flows.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { useSecurityKeysOn } from '../helpers/security-keys.js';
import { VirtualAuthenticator, type VirtualAuthenticatorKind } from '../helpers/virtual-authenticator.js';
import { useServerAndBrowser } from '../helpers/web-server.js';

/** Settings → Add a security key or passkey, named; the first factor ends on the recovery-codes page. */
async function addKey(page: Page, name: string): Promise<void> {
  await page.getByLabel('Name it, so you can tell your keys apart').fill(name);
  await page.getByRole('button', { name: 'Add a security key or passkey' }).click();
}

// STANDARDS req 62 (W3C WebAuthn L2 7.1, 7.2, 6.1.1): Chromium's virtual authenticator through CDP.
describe.skipIf(!browserAvailable())('security keys and passkeys in Chromium', () => {
  const live = useServerAndBrowser(async (server) => {
    await configureRecoveryCodes(server.env);
    useSecurityKeysOn(server);
  });

  const person = async (kind: VirtualAuthenticatorKind, prefix: string) => {
    const { context, page } = await newTestPage(live.browser);
    const key = await VirtualAuthenticator.attach(context, page, kind);
    const email = uniqueEmail(prefix);
    await signUp(page, live.server, email);
    return { context, page, key, email };
  };

  const events = async (action: string) =>
    live.server.env.deps.store.listAuditEvents({ action: action as never, limit: 5 });

  for (const kind of ['internal', 'usb'] as const) {
    test(`a ${kind} authenticator registers (the codes are shown once) and signs in as the second factor`, async () => {
      const { context, page, key, email } = await person(kind, `key-${kind}`);
      await addKey(page, kind === 'usb' ? 'YubiKey 5C' : 'This laptop');
      await page.locator('#recovery-codes').waitFor();
      expect(await codesOnPage(page)).toHaveLength(10);
      await acknowledgeCodes(page);
      const listed = page.locator('#security-keys li');
      await expect.poll(() => listed.count()).toBe(1);
      const text = (await listed.textContent()) ?? '';
      expect(text).toContain(kind === 'usb' ? 'YubiKey 5C' : 'This laptop');
      expect(text).toContain('never used');
      expect(text).toMatch(/single-device key|synced passkey/);
      if (kind === 'usb') await screenshotTo(page, 'security-keys-settings.png');
      await signOut(page);

      await signInWithPassword(page, live.server, email);
      await page.waitForURL(/\/sign-in\/two-factor/);
      // The key is the default choice: its form comes first, the other ways follow.
      const firstForm = page.locator('main form').first();
      expect(await firstForm.getAttribute('id')).toBe('use-security-key');
      await expect.poll(() => page.getByRole('link', { name: 'Use a recovery code' }).count()).toBe(1);
      if (kind === 'internal') await screenshotTo(page, 'security-key-sign-in.png');
      await page.getByRole('button', { name: 'Use your security key' }).click();
      await page.waitForURL(/\/settings\/two-factor/);
      expect((await page.locator('#security-keys li').textContent()) ?? '').toContain('last used');
      const [signIn] = await events('sign_in');
      expect(signIn?.details).toMatchObject({ method: 'webauthn' });
      expect((await key.credentials())[0]?.signCount).toBeGreaterThan(0);
      await context.close();
    });
  }

  test('passkey sign-in: a resident key with user verification signs in without a password', async () => {
    const { context, page, email } = await person('internal', 'passkey');
    await addKey(page, 'Phone');
    await acknowledgeCodes(page);
    await signOut(page);
    await page.goto(`${live.server.url}/sign-in`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(/\/settings\/two-factor/);
    expect(await page.locator('.who').textContent()).toContain(email);
    const [signIn] = await events('sign_in');
    expect(signIn?.details).toMatchObject({ method: 'passkey' });
    const [verified] = await events('webauthn_verified');
    expect(verified?.details).toMatchObject({ ceremony: 'passkey', userVerified: true });
    await context.close();
  });

  test('a cancelled ceremony says so in words and keeps the other ways on the page', async () => {
    const { context, page, key } = await person('internal', 'cancel');
    await addKey(page, 'Laptop');
    await acknowledgeCodes(page);
    await signOut(page);
    await key.declineVerification();
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const problem = page.locator('#passkey-sign-in .webauthn-error');
    await problem.waitFor();
    expect(await problem.textContent()).toContain('cancelled or timed out');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    // The password form is still there, and nothing was signed in.
    await page.getByLabel('Password').waitFor();
    expect(await page.locator('.who').count()).toBe(0);
    await context.close();
  });

  test('a counter rolled back is refused and audited as a possible cloned key', async () => {
    const { context, page, key, email } = await person('usb', 'clone');
    await addKey(page, 'Key');
    await acknowledgeCodes(page);
    for (let i = 0; i < 2; i++) {
      await signOut(page);
      await signInWithPassword(page, live.server, email);
      await page.getByRole('button', { name: 'Use your security key' }).click();
      await page.waitForURL(/\/settings\/two-factor/);
    }
    await signOut(page);
    await key.rollBackCounter(1);
    await signInWithPassword(page, live.server, email);
    await page.getByRole('button', { name: 'Use your security key' }).click();
    await page.locator('#form-error').waitFor();
    expect(await page.locator('#form-error').textContent()).toContain('use counter went backwards');
    const [event] = await events('webauthn_counter_regressed');
    expect(event?.details).toMatchObject({ possibleClone: true, ceremony: 'second_factor' });
    expect(Number(event?.details.reportedCounter)).toBeLessThanOrEqual(Number(event?.details.storedCounter));
    await context.close();
  });

  test('a key answering for another origin is refused', async () => {
    const { context, page } = await person('usb', 'origin');
    const settings = live.server.env.deps.options.webauthn!;
    live.server.env.deps.options.webauthn = { ...settings, origins: ['https://auth.example.com'] };
    try {
      await addKey(page, 'Key');
      await page.locator('#form-error').waitFor();
      expect(await page.locator('#form-error').textContent()).toContain('could not be verified');
      expect(await page.locator('#keys-none').count()).toBe(1);
      const [event] = await events('webauthn_registration_failed');
      expect(String(event?.details.reason)).toContain('origin');
    } finally {
      live.server.env.deps.options.webauthn = settings;
    }
    await context.close();
  });

  test('a removed passkey is refused at sign-in', async () => {
    const { context, page, email } = await person('internal', 'removed');
    await addKey(page, 'Old phone');
    await acknowledgeCodes(page);
    // A second key (another authenticator) so this one can be removed.
    const second = await VirtualAuthenticator.attach(context, page, 'usb');
    await page.goto(`${live.server.url}/settings/two-factor`);
    await addKey(page, 'New key');
    await page.waitForURL(/notice=factor-added/);
    await page
      .locator('#security-keys li', { hasText: 'Old phone' })
      .getByRole('link', { name: 'Remove' })
      .click();
    await page.getByLabel('Your password').fill(BROWSER_PASSWORD);
    await page.getByRole('button', { name: 'Remove', exact: true }).click();
    await page.waitForURL(/notice=factor-removed/);
    expect(await page.locator('#security-keys li').count()).toBe(1);
    await second.remove();
    await signOut(page);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.locator('#form-error').waitFor();
    expect(await page.locator('#form-error').textContent()).toContain('not registered to this account');
    expect(email).toBeTruthy();
    await context.close();
  });
});
