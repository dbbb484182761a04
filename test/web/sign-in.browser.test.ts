import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { browserAvailable, newTestPage, screenshotTo } from '../helpers/browser.js';
import {
  acknowledgeCodes,
  codesOnPage,
  currentCode,
  setUpAuthenticator,
  signInWithPassword,
  signOut,
  signUp,
  uniqueEmail,
} from '../helpers/browser-flows.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { useServerAndBrowser } from '../helpers/web-server.js';

describe.skipIf(!browserAvailable())(
  'flows 2, 5 and 6: sign in with a second factor or a recovery code',
  () => {
    const live = useServerAndBrowser((server) => configureRecoveryCodes(server.env));

    /** A person with an authenticator app and saved codes, signed out. */
    async function enrolledPerson(page: Page) {
      const email = uniqueEmail('signin');
      await signUp(page, live.server, email);
      const { secret } = await setUpAuthenticator(page, live.server);
      const codes = await codesOnPage(page);
      await acknowledgeCodes(page);
      await signOut(page);
      return { email, secret, codes };
    }

    const alert = (page: Page) => page.getByRole('alert').first().textContent();

    test('password, then the authenticator code: signed in', async () => {
      const { context, page } = await newTestPage(live.browser);
      const { email, secret } = await enrolledPerson(page);
      await signInWithPassword(page, live.server, email);
      await page.waitForURL(/\/sign-in\/two-factor/);
      await page.getByLabel('Authentication code').fill(currentCode(live.server, secret));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.waitForURL(/\/settings\/two-factor/);
      expect(await page.locator('#mfa-status').textContent()).toBe('on');
      await context.close();
    });

    test('"Use a recovery code": case, spaces and dashes do not matter; a used or unknown code gets a clear message; the user is emailed', async () => {
      const { context, page } = await newTestPage(live.browser, { viewport: { width: 800, height: 640 } });
      const { email, codes } = await enrolledPerson(page);
      await signInWithPassword(page, live.server, email);
      await page.waitForURL(/\/sign-in\/two-factor/);
      await expect.poll(() => page.getByRole('link', { name: 'Use a recovery code' }).isVisible()).toBe(true);
      await screenshotTo(page, 'sign-in-second-step.png');
      await page.getByRole('link', { name: 'Use a recovery code' }).click();

      const first = codes[0] as string;
      const unknown = `${first.slice(0, -1)}${first.endsWith('0') ? '1' : '0'}`;
      await page.getByLabel('Recovery code').fill(unknown);
      await page.getByRole('button', { name: 'Verify' }).click();
      await expect.poll(() => alert(page)).toBe(errorMessages.invalid_code);

      const before = live.server.env.smtp.messages.length;
      await page.getByLabel('Recovery code').fill(`  ${first.toLowerCase().replaceAll('-', ' ')} `);
      await page.getByRole('button', { name: 'Verify' }).click();
      await expect.poll(() => page.locator('h1').textContent()).toBe('You are signed in');
      expect(await page.textContent('main')).toContain('You have 9 recovery codes left');

      // Flow 6: an email with the time, IP, live.browser and codes left.
      await expect.poll(() => live.server.env.smtp.messages.length).toBeGreaterThan(before);
      const notice = live.server.env.smtp.messages.find(
        (m, i) => i >= before && m.subject.includes('recovery code was used'),
      );
      expect(notice?.to).toContain(email);
      expect(notice?.text).toMatch(/Time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
      expect(notice?.text).toContain('IP address: 127.0.0.1');
      expect(notice?.text).toContain('HeadlessChrome');
      expect(notice?.text).toContain('Recovery codes left: 9');
      expect(notice?.text).not.toContain(first);

      await signOut(page);
      await signInWithPassword(page, live.server, email);
      await page.getByRole('link', { name: 'Use a recovery code' }).click();
      await page.getByLabel('Recovery code').fill(first);
      await page.getByRole('button', { name: 'Verify' }).click();
      await expect.poll(() => alert(page)).toBe(errorMessages.code_already_used);
      await context.close();
    });

    test('flow 5: lost everything explains that support resets it and what they will need', async () => {
      const { context, page } = await newTestPage(live.browser);
      const { email } = await enrolledPerson(page);
      await signInWithPassword(page, live.server, email);
      await page.getByRole('link', { name: 'Lost access to everything?' }).click();
      await page.waitForURL(/\/lost-access/);
      const text = (await page.textContent('main')) ?? '';
      expect(text).toContain('support team');
      expect(text).toContain('the email address of the account');
      expect(text).toContain('an administrator resets your two-factor authentication');
      await context.close();
    });
  },
);
