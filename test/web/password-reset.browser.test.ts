import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { browserAvailable, newTestPage } from '../helpers/browser.js';
import {
  acknowledgeCodes,
  codesOnPage,
  setUpAuthenticator,
  signOut,
  signUp,
  uniqueEmail,
} from '../helpers/browser-flows.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { useServerAndBrowser } from '../helpers/web-server.js';

const NEW_PASSWORD = 'quiet-harbour-lamp-57';

describe.skipIf(!browserAvailable())('issue 8.1: "Forgot your password?" in a browser', () => {
  const live = useServerAndBrowser((server) => configureRecoveryCodes(server.env));

  /** From the sign-in page to the emailed link, as a person would; returns the link's path. */
  async function askForLink(page: Page, email: string): Promise<string> {
    await page.goto(`${live.server.url}/sign-in`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expect.poll(() => page.locator('#reset-sent').isVisible()).toBe(true);
    let link: string | undefined;
    await expect
      .poll(() => {
        const mail = live.server.env.smtp.messages.findLast((message) => message.to.includes(email));
        link = mail?.text.match(/\/reset-password\?token=[A-Za-z0-9_-]+/)?.[0];
        return link;
      })
      .toBeDefined();
    return link as string;
  }

  async function signInWith(page: Page, email: string, password: string) {
    await page.goto(`${live.server.url}/sign-in`);
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  test('no two-factor: the link sets a new password, once; every session ends; the user is emailed', async () => {
    const { context, page } = await newTestPage(live.browser);
    const email = uniqueEmail('reset-plain');
    await signUp(page, live.server, email);
    const other = await newTestPage(live.browser);
    await signInWith(other.page, email, 'lantern-orchard-fold-93');
    await signOut(page);

    const link = await askForLink(page, email);
    await page.goto(`${live.server.url}${link}`);
    expect(await page.getByLabel('A code from your authenticator app').count()).toBe(0);
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.waitForURL(/\/sign-in\?notice=password-reset/);
    expect(await page.getByRole('status').first().textContent()).toContain('Your password was changed');

    // The other browser's session is gone; the old password no longer works, the new one does.
    await other.page.goto(`${live.server.url}/settings/two-factor`);
    await other.page.waitForURL(/\/sign-in/);
    await other.context.close();
    await signInWith(page, email, NEW_PASSWORD);
    await page.waitForURL(/\/settings\/two-factor/);
    expect(
      live.server.env.smtp.messages.some(
        (m) => m.to.includes(email) && m.subject.includes('password was changed'),
      ),
    ).toBe(true);

    // The link is spent.
    await page.goto(`${live.server.url}${link}`);
    expect(await page.getByRole('alert').first().textContent()).toContain(errorMessages.reset_link_invalid);
    await context.close();
  });

  test('two-factor on: the link alone is refused; a recovery code completes it and is used up', async () => {
    const { context, page } = await newTestPage(live.browser);
    const email = uniqueEmail('reset-2fa');
    await signUp(page, live.server, email);
    await setUpAuthenticator(page, live.server);
    const codes = await codesOnPage(page);
    await acknowledgeCodes(page);
    await signOut(page);

    const link = await askForLink(page, email);
    await page.goto(`${live.server.url}${link}`);
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    expect(await page.getByRole('alert').first().textContent()).toContain(
      errorMessages.second_factor_required,
    );

    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByLabel('One of your recovery codes').fill(codes[0] as string);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.waitForURL(/\/sign-in\?notice=password-reset/);

    // Signed in with the new password, the second step still stands; the used code is gone.
    await signInWith(page, email, NEW_PASSWORD);
    await page.waitForURL(/\/sign-in\/two-factor/);
    await page.getByRole('link', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').fill(codes[0] as string);
    await page.getByRole('button', { name: 'Verify' }).click();
    expect(await page.getByRole('alert').first().textContent()).toContain(errorMessages.code_already_used);
    await page.getByLabel('Recovery code').fill(codes[1] as string);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'You are signed in' }).count()).toBe(1);
    // Two codes are gone: one spent on the reset, one on this sign-in.
    expect(await page.getByRole('status').first().textContent()).toContain(
      `${codes.length - 2} recovery codes left`,
    );
    await context.close();
  });
});
