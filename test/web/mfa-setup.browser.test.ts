import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { browserAvailable, newTestPage, screenshotTo } from '../helpers/browser.js';
import {
  acknowledgeCodes,
  codesOnPage,
  setUpAuthenticator,
  signUp,
  uniqueEmail,
} from '../helpers/browser-flows.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { useServerAndBrowser } from '../helpers/web-server.js';

const CODE_SHAPE = /^[0-9A-HJKMNP-TV-Z]{1,2}-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/;

describe.skipIf(!browserAvailable())(
  'flow 1: set up two-factor in Chromium, codes shown exactly once',
  () => {
    const live = useServerAndBrowser((server) => configureRecoveryCodes(server.env));

    test('authenticator app: QR + key, a correct code, then the codes with Copy, Download, Print and the saved-box', async () => {
      const { context, page } = await newTestPage(live.browser);
      const email = uniqueEmail('totp');
      await signUp(page, live.server, email);
      await setUpAuthenticator(page, live.server);

      await expect.poll(() => page.locator('h1').textContent()).toBe('Save your recovery codes');
      const codes = await codesOnPage(page);
      expect(codes).toHaveLength(10);
      for (const code of codes) expect(code).toMatch(CODE_SHAPE);
      await screenshotTo(page, 'recovery-codes.png');

      // Copy puts every code on the clipboard.
      await page.getByRole('button', { name: 'Copy' }).click();
      const clipboard = await page.evaluate('navigator.clipboard.readText()');
      for (const code of codes) expect(String(clipboard)).toContain(code);

      // Download (.txt) saves a file with the codes.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByText('Download (.txt)').click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/recovery-codes\.txt$/);
      const saved = readFileSync((await download.path()) as string, 'utf8');
      for (const code of codes) expect(saved).toContain(code);

      // Print is offered, and the printed page holds the codes without the page's chrome.
      await expect.poll(() => page.getByRole('button', { name: 'Print' }).isVisible()).toBe(true);
      await page.emulateMedia({ media: 'print' });
      expect(await page.locator('header.site').isVisible()).toBe(false);
      expect(await page.locator('#recovery-codes').isVisible()).toBe(true);
      // The printed sheet's header says whose codes they are, for which site, from when, of which set.
      const sheet = page.locator('#codes-sheet');
      expect(await sheet.isVisible()).toBe(true);
      for (const value of await sheet.locator('dd').all()) expect(await value.isVisible()).toBe(true);
      const terms = await sheet.locator('dt').allTextContents();
      const values = await sheet.locator('dd').allTextContents();
      const header = Object.fromEntries(terms.map((term, index) => [term, values[index]]));
      expect(header).toEqual({
        Site: live.server.env.deps.options.issuer,
        Account: email,
        // The set is named by when it was generated, in words a code never contains (issue 19.10).
        Set: expect.stringMatching(/^Set of \d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d:\d\d UTC$/),
      });
      await page.emulateMedia({ media: 'screen' });

      // "Done" does nothing until the box is ticked.
      await page.getByRole('button', { name: 'Done' }).click();
      expect(await page.locator('#recovery-codes').isVisible()).toBe(true);
      await acknowledgeCodes(page);
      expect(await page.locator('#codes-remaining').textContent()).toContain('10 of 10');

      // Going back or reloading never shows them again.
      const shownNowhere = async () => {
        // Going back to a POST's no-store result makes Chromium fetch it again: wait until it settles.
        let content: string | undefined;
        for (let attempt = 0; content === undefined && attempt < 20; attempt += 1) {
          await page.waitForLoadState('load');
          content = await page.content().catch(() => undefined);
          if (content === undefined) await page.waitForTimeout(100);
        }
        expect(content).toBeDefined();
        expect(content).not.toContain(codes[0]);
      };
      await page.goBack().catch(() => undefined);
      await shownNowhere();
      await page.reload().catch(() => undefined);
      await shownNowhere();
      await page.goto(`${live.server.url}/settings/two-factor`);
      expect(await page.content()).not.toContain(codes[0]);
      await context.close();
    });

    test('without JavaScript the page still works: codes, a download link, the saved-box; Copy and Print stay hidden', async () => {
      const { context, page } = await newTestPage(live.browser, { javaScriptEnabled: false });
      await signUp(page, live.server, uniqueEmail('nojs'));
      await setUpAuthenticator(page, live.server);
      expect(await codesOnPage(page)).toHaveLength(10);
      expect(await page.getByRole('button', { name: 'Copy' }).isVisible()).toBe(false);
      expect(await page.getByRole('button', { name: 'Print' }).isVisible()).toBe(false);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByText('Download (.txt)').click(),
      ]);
      expect(readFileSync((await download.path()) as string, 'utf8')).toContain('recovery codes');
      await acknowledgeCodes(page);
      await context.close();
    });

    test('a wrong code keeps the QR page with a clear error; the enrollment still completes afterwards', async () => {
      const { context, page } = await newTestPage(live.browser);
      await signUp(page, live.server, uniqueEmail('wrong'));
      await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      await page.getByLabel('Enter the 6-digit code your app shows').fill('000000');
      await page.getByRole('button', { name: 'Verify and turn on' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('That code is not valid');
      expect(await page.locator('figure.qr svg').count()).toBe(1);
      await context.close();
    });

    test('email code as the factor: the code arrives over SMTP, and the codes are shown once', async () => {
      const { context, page } = await newTestPage(live.browser);
      const email = uniqueEmail('mail');
      await signUp(page, live.server, email);
      await page.getByRole('button', { name: 'Use email codes' }).click();
      const message = [...live.server.env.smtp.messages].reverse().find((m) => m.to.includes(email));
      const code = message?.text.match(/code is (\d+)/)?.[1] as string;
      await page.getByLabel('Email code').fill(code);
      await page.getByRole('button', { name: 'Verify and turn on' }).click();
      expect(await codesOnPage(page)).toHaveLength(10);
      await acknowledgeCodes(page);
      expect(await page.textContent('body')).toContain('Email codes');
      await context.close();
    });
  },
);
