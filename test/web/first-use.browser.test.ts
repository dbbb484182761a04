import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
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

/**
 * Issue 19 in Chromium: what a new user and operator stumbled on. The HTTP side of each point is in
 * first-use.http.test.ts; here is what only a browser shows (console, history, layout).
 */
describe.skipIf(!browserAvailable())('issue 19: first use in Chromium', () => {
  const live = useServerAndBrowser((server) =>
    configureRecoveryCodes(server.env, { codesPerSet: 10, lowThreshold: 3, policy: 'continue' }),
  );

  /** Every console error, uncaught exception and failed request of a page, with the address it was on. */
  function recordProblems(page: Page): string[] {
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`${page.url()}: console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`${page.url()}: exception: ${error.message}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.url()}: HTTP ${response.status()}`);
    });
    page.on('requestfailed', (request) => {
      // A request the next navigation cut short (the icon of a page left at once) is not a failure.
      const reason = request.failure()?.errorText ?? 'failed';
      if (reason !== 'net::ERR_ABORTED') problems.push(`${request.url()}: ${reason}`);
    });
    return problems;
  }

  async function makeAdministrator(email: string): Promise<void> {
    const user = await live.server.env.deps.store.findUserByEmail(email);
    await live.server.env.deps.store.setUserRoles(user?.id as string, ['administrator']);
  }

  test('19.7 and 19.8: audit rows stay a line or two with details one click away; settings fields line up', async () => {
    const { context, page } = await newTestPage(live.browser, { viewport: { width: 1440, height: 900 } });
    const email = uniqueEmail('layout');
    await signUp(page, live.server, email);
    await makeAdministrator(email);
    // Settings changes are the widest events: the settings before and after, as JSON.
    for (const codesPerSet of [8, 10]) await configureRecoveryCodes(live.server.env, { codesPerSet });

    await page.goto(`${live.server.url}/admin/audit`);
    const rows = page.locator('#audit-events tbody tr');
    await expect.poll(() => rows.count()).toBeGreaterThan(2);
    const heights = await rows.evaluateAll((trs) => trs.map((tr) => tr.getBoundingClientRect().height));
    const lineHeight = await page
      .locator('#audit-events td.time')
      .first()
      .evaluate((td) =>
        Number.parseFloat(td.ownerDocument.defaultView?.getComputedStyle(td).lineHeight ?? ''),
      );
    // A line or two: two lines of text plus the cell padding, for every row.
    expect(Math.max(...heights)).toBeLessThanOrEqual(2 * lineHeight + 16);
    // Times never wrap: each is one line box.
    const timeLines = await page.locator('#audit-events td.time').evaluateAll((tds) =>
      tds.map((td) => {
        const range = td.ownerDocument.createRange();
        range.selectNodeContents(td);
        return range.getClientRects().length;
      }),
    );
    expect(new Set(timeLines)).toEqual(new Set([1]));
    // The summary opens into every value in full.
    const changed = rows.filter({ hasText: 'settings_changed' }).first();
    await changed.locator('summary').click();
    const full = (await changed.locator('td.details dl').textContent()) ?? '';
    expect(full).toContain('"codesPerSet":10');
    expect(full).toContain('"codesPerSet":8');
    // Runs first in this file, so the picture holds this test's few events, one of them opened.
    await screenshotTo(page, 'admin-audit.png');

    await page.goto(`${live.server.url}/admin/settings`);
    const heightOf = (selector: string) =>
      page.locator(selector).evaluate((element) => element.getBoundingClientRect().height);
    const numberHeights = await page
      .locator('form input[type=number]')
      .evaluateAll((inputs) => inputs.map((input) => input.getBoundingClientRect().height));
    expect(numberHeights.length).toBeGreaterThanOrEqual(4);
    const selectHeight = await heightOf('#slotLength');
    for (const height of numberHeights) {
      expect(height).toBeGreaterThanOrEqual(35);
      expect(Math.abs(height - selectHeight)).toBeLessThanOrEqual(4);
    }
    const radioSizes = await page.locator('input[type=radio][name=policy]').evaluateAll((radios) =>
      radios.map((radio) => {
        const box = radio.getBoundingClientRect();
        return `${Math.round(box.width)}x${Math.round(box.height)}`;
      }),
    );
    expect(radioSizes).toHaveLength(3);
    expect(new Set(radioSizes).size).toBe(1);
    await screenshotTo(page, 'admin-settings.png');
    await context.close();
  });

  test('19.1: no page of the main flows logs a console error (or fails to load anything)', async () => {
    const { context, page } = await newTestPage(live.browser);
    const problems = recordProblems(page);
    const visited: string[] = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) visited.push(new URL(frame.url()).pathname);
    });
    const email = uniqueEmail('console');

    // Sign up, set up the authenticator, the codes shown once, settings.
    await signUp(page, live.server, email);
    const { secret } = await setUpAuthenticator(page, live.server);
    const codes = await codesOnPage(page);
    await acknowledgeCodes(page);
    await makeAdministrator(email);
    await signOut(page);

    // Sign in with the authenticator code.
    await signInWithPassword(page, live.server, email);
    await page.waitForURL(/\/sign-in\/two-factor/);
    await page.getByLabel('Authentication code').fill(currentCode(live.server, secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(/\/settings\/two-factor/);

    // The operator's pages.
    for (const path of ['/admin', '/admin/users', '/admin/audit', '/admin/settings']) {
      await page.goto(`${live.server.url}${path}`);
      await expect.poll(() => page.locator('h1').count()).toBe(1);
    }
    await signOut(page);

    // Sign in with a recovery code.
    await signInWithPassword(page, live.server, email);
    await page.getByRole('link', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').fill(codes[0] as string);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('You are signed in');
    await page.getByRole('link', { name: 'Go to two-factor settings' }).click();
    await page.waitForURL(/\/settings\/two-factor/);
    await signOut(page);

    // Forgot password.
    await page.getByRole('link', { name: /Forgot/ }).click();
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Check your email');

    for (const path of [
      '/sign-up',
      '/settings/two-factor',
      '/sign-in/two-factor',
      '/sign-in/recovery',
      '/admin',
      '/admin/users',
      '/admin/audit',
      '/admin/settings',
      '/forgot-password',
    ]) {
      expect(visited, `the flow went through ${path}`).toContain(path);
    }
    expect(problems).toEqual([]);
    await context.close();
  });

  test('19.12: Back after Done lands on the settings page, not "Confirm Form Resubmission", and never the codes', async () => {
    const { context, page } = await newTestPage(live.browser);
    await signUp(page, live.server, uniqueEmail('back'));
    await setUpAuthenticator(page, live.server);
    const codes = await codesOnPage(page);
    expect(codes).toHaveLength(10);
    await acknowledgeCodes(page);
    await page.goBack();
    await page.waitForURL(/\/settings\/two-factor\?notice=codes-shown-once$/);
    expect(await page.locator('h1').textContent()).toBe('Two-factor authentication');
    expect(await page.getByRole('status').first().textContent()).toContain('shown only once');
    const main = (await page.textContent('main')) ?? '';
    for (const code of codes) expect(main).not.toContain(code);
    await context.close();
  });

  test('19.9: the second step shows whose sign-in it is, and Cancel sign-in (or Sign out) leads back out', async () => {
    const { context, page } = await newTestPage(live.browser);
    const email = uniqueEmail('cancel');
    await signUp(page, live.server, email);
    await setUpAuthenticator(page, live.server);
    await acknowledgeCodes(page);
    await signOut(page);

    await signInWithPassword(page, live.server, email);
    await page.waitForURL(/\/sign-in\/two-factor/);
    expect(await page.locator('header.site').textContent()).toContain(`Signing in as ${email}`);
    await page.getByRole('button', { name: 'Cancel sign-in' }).click();
    await page.waitForURL(/\/sign-in\?notice=signed-out$/);

    await signInWithPassword(page, live.server, email);
    await page.getByRole('link', { name: 'Use a recovery code' }).click();
    await page.waitForURL(/\/sign-in\/recovery/);
    await page.locator('header.site').getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/sign-in\?notice=signed-out$/);
    // The half-finished sign-in is gone: its page sends the browser back to the password step.
    await page.goto(`${live.server.url}/sign-in/two-factor`);
    await page.waitForURL(/\/sign-in\?notice=session-expired$/);
    await context.close();
  });
});
