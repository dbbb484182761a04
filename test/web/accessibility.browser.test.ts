import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { browserAvailable, newTestPage } from '../helpers/browser.js';
import {
  acknowledgeCodes,
  setUpAuthenticator,
  signInWithPassword,
  signOut,
  signUp,
  uniqueEmail,
} from '../helpers/browser-flows.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { useServerAndBrowser } from '../helpers/web-server.js';

/**
 * Accessible and responsive: every page an end user touches passes axe-core's WCAG 2.1 A/AA rules, on a
 * desktop and on a 360 px phone screen without sideways scrolling.
 */
describe.skipIf(!browserAvailable())('accessibility and small screens', () => {
  const live = useServerAndBrowser((server) => configureRecoveryCodes(server.env));

  async function check(page: Page, label: string) {
    const results = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .analyze();
    const problems = results.violations.map(
      (v) => `${label}: ${v.id} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`,
    );
    expect(problems).toEqual([]);
    // The analyzer really ran under the page's CSP (it reports what passed, too).
    expect(results.passes.length, label).toBeGreaterThan(5);
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(Number(overflow), `${label} scrolls sideways`).toBeLessThanOrEqual(0);
  }

  test.each([
    ['desktop', { width: 1000, height: 800 }],
    ['phone', { width: 360, height: 740 }],
  ] as const)('every end-user page passes on %s', async (_name, viewport) => {
    const { context, page } = await newTestPage(live.browser, { viewport });
    const email = uniqueEmail('a11y');
    await page.goto(`${live.server.url}/sign-in`);
    await check(page, 'sign-in');
    await page.goto(`${live.server.url}/sign-up`);
    await check(page, 'sign-up');
    await signUp(page, live.server, email);
    await check(page, 'settings (off)');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await page.locator('figure.qr svg').waitFor();
    await check(page, 'authenticator setup');
    await page.goto(`${live.server.url}/settings/two-factor`);
    await setUpAuthenticator(page, live.server);
    await check(page, 'recovery codes');
    await acknowledgeCodes(page);
    await check(page, 'settings (on)');
    await page.getByRole('link', { name: 'Regenerate recovery codes' }).click();
    await check(page, 'step-up');
    await signOut(page);
    await signInWithPassword(page, live.server, email);
    await page.waitForURL(/two-factor/);
    await check(page, 'second step');
    await page.getByRole('link', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').fill('nonsense');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').waitFor();
    await check(page, 'recovery code with an error');
    await page.goto(`${live.server.url}/lost-access`);
    await check(page, 'lost access');
    await context.close();
  });
});
