import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { browserAvailable, newTestPage } from '../helpers/browser.js';
import {
  acknowledgeCodes,
  codesOnPage,
  setUpAuthenticator,
  signInWithPassword,
  signOut,
  signUp,
  uniqueEmail,
} from '../helpers/browser-flows.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { useServerAndBrowser } from '../helpers/web-server.js';

/** Flow 3: what happens after a recovery code is the operator's post-recovery policy. */
describe.skipIf(!browserAvailable())('flow 3: the post-recovery policy, in Chromium', () => {
  const live = useServerAndBrowser();

  async function personSignedOut(page: Page) {
    const email = uniqueEmail('policy');
    await signUp(page, live.server, email);
    await setUpAuthenticator(page, live.server);
    const codes = await codesOnPage(page);
    await acknowledgeCodes(page);
    await signOut(page);
    return { email, codes };
  }

  async function useRecoveryCode(page: Page, email: string, code: string) {
    await signInWithPassword(page, live.server, email);
    await page.getByRole('link', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
  }

  test('continue: signed in with "K codes left", and a prompt to regenerate once at the low threshold', async () => {
    await configureRecoveryCodes(live.server.env, { policy: 'continue', codesPerSet: 5, lowThreshold: 3 });
    const { context, page } = await newTestPage(live.browser);
    const { email, codes } = await personSignedOut(page);
    expect(codes).toHaveLength(5);
    await useRecoveryCode(page, email, codes[0] as string);
    await expect.poll(() => page.textContent('main')).toContain('You have 4 recovery codes left');
    expect(await page.getByText('running low').count()).toBe(0);
    await signOut(page);
    await useRecoveryCode(page, email, codes[1] as string);
    await expect.poll(() => page.textContent('main')).toContain('You have 3 recovery codes left');
    expect(await page.getByRole('alert').textContent()).toContain('running low on recovery codes');
    expect(await page.getByRole('link', { name: 'Generate new recovery codes' }).isVisible()).toBe(true);
    await context.close();
  });

  test('disable_mfa: signed in, two-factor turned off, and sent to set it up again with an explanation', async () => {
    await configureRecoveryCodes(live.server.env, {
      policy: 'disable_mfa',
      codesPerSet: 10,
      lowThreshold: 3,
    });
    const { context, page } = await newTestPage(live.browser);
    const { email, codes } = await personSignedOut(page);
    await useRecoveryCode(page, email, codes[3] as string);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Two-factor authentication is off');
    expect(await page.textContent('main')).toContain('turned two-factor authentication off');
    await page.getByRole('link', { name: 'Set up two-factor authentication again' }).click();
    await page.waitForURL(/\/settings\/two-factor/);
    expect(await page.locator('#mfa-status').textContent()).toBe('off');
    // The other codes died with it: the next sign-in needs no second factor, and a code is no longer asked.
    await signOut(page);
    await signInWithPassword(page, live.server, email);
    await page.waitForURL(/\/settings\/two-factor/);
    await context.close();
  });

  test('rotate: signed in and shown the replacement codes once; the old set is dead', async () => {
    await configureRecoveryCodes(live.server.env, { policy: 'rotate', codesPerSet: 10, lowThreshold: 3 });
    const { context, page } = await newTestPage(live.browser);
    const { email, codes } = await personSignedOut(page);
    await useRecoveryCode(page, email, codes[0] as string);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Your new recovery codes');
    const replacement = await codesOnPage(page);
    expect(replacement).toHaveLength(10);
    expect(replacement.some((code) => codes.includes(code))).toBe(false);
    await acknowledgeCodes(page);
    await signOut(page);
    await useRecoveryCode(page, email, codes[1] as string);
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('not valid');
    await page.goto(`${live.server.url}/sign-in/recovery`);
    await page.getByLabel('Recovery code').fill(replacement[0] as string);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Your new recovery codes');
    await context.close();
  });
});
