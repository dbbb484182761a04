import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { verifyRecoveryCode } from '../../src/service/recovery-codes/verify-recovery-code.js';
import { browserAvailable, newTestPage } from '../helpers/browser.js';
import {
  acknowledgeCodes,
  BROWSER_PASSWORD,
  codesOnPage,
  currentCode,
  setUpAuthenticator,
  signUp,
  uniqueEmail,
} from '../helpers/browser-flows.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { useServerAndBrowser } from '../helpers/web-server.js';

/** Flow 4 (and the regeneration email of flow 6). */
describe.skipIf(!browserAvailable())('flow 4: Settings → Two-factor authentication, in Chromium', () => {
  const live = useServerAndBrowser((server) =>
    configureRecoveryCodes(server.env, { codesPerSet: 10, lowThreshold: 3 }),
  );

  async function enrolled(page: Page) {
    const email = uniqueEmail('settings');
    await signUp(page, live.server, email);
    const { secret } = await setUpAuthenticator(page, live.server);
    const codes = await codesOnPage(page);
    await acknowledgeCodes(page);
    const user = await live.server.env.deps.store.findUserByEmail(email);
    return { email, secret, codes, userId: user?.id as string };
  }

  const remaining = (page: Page) => page.locator('#codes-remaining').textContent();

  test('"Recovery codes remaining: K of N", with a warning at the threshold', async () => {
    const { context, page } = await newTestPage(live.browser);
    const { codes, userId } = await enrolled(page);
    expect(await remaining(page)).toBe('Recovery codes remaining: 10 of 10');
    // Codes used elsewhere (another device) show up here.
    for (const code of codes.slice(0, 7)) {
      const used = await verifyRecoveryCode(live.server.env.deps, { userId, code, context: {} });
      expect(used.ok).toBe(true);
    }
    await page.reload();
    expect(await remaining(page)).toBe('Recovery codes remaining: 3 of 10');
    expect(await page.getByRole('alert').textContent()).toContain('running low on recovery codes');
    await context.close();
  });

  test('Regenerate asks for the password first, shows the new set once, and the old set dies at once; the user is emailed', async () => {
    const { context, page } = await newTestPage(live.browser);
    const { email, codes, userId } = await enrolled(page);
    await page.getByRole('link', { name: 'Regenerate recovery codes' }).click();
    await page.getByLabel('Your password').fill('not my password');
    await page.getByRole('button', { name: 'Generate new codes' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe(errorMessages.step_up_failed);

    const before = live.server.env.smtp.messages.length;
    await page.getByLabel('Your password').fill(BROWSER_PASSWORD);
    await page.getByRole('button', { name: 'Generate new codes' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Your new recovery codes');
    const fresh = await codesOnPage(page);
    expect(fresh).toHaveLength(10);
    const old = await verifyRecoveryCode(live.server.env.deps, {
      userId,
      code: codes[5] as string,
      context: {},
    });
    expect(old).toEqual({ ok: false, error: 'invalid_code' });
    await acknowledgeCodes(page);
    expect(await remaining(page)).toBe('Recovery codes remaining: 10 of 10');

    await expect.poll(() => live.server.env.smtp.messages.length).toBeGreaterThan(before);
    const notice = live.server.env.smtp.messages
      .slice(before)
      .find((m) => m.subject.includes('New recovery codes'));
    expect(notice?.to).toContain(email);
    expect(notice?.text).toContain('IP address: 127.0.0.1');
    for (const code of fresh) expect(notice?.text).not.toContain(code);
    await context.close();
  });

  test('a second factor can be removed (after step-up); the last one cannot', async () => {
    const { context, page } = await newTestPage(live.browser);
    const { email } = await enrolled(page);
    await page.getByRole('button', { name: 'Use email codes' }).click();
    const message = [...live.server.env.smtp.messages]
      .reverse()
      .find((m) => m.to.includes(email) && /code is/.test(m.text));
    await page.getByLabel('Email code').fill(message?.text.match(/code is (\d+)/)?.[1] as string);
    await page.getByRole('button', { name: 'Verify and turn on' }).click();
    await page.waitForURL(/notice=factor-added/);
    expect(await page.locator('.factors li').count()).toBe(2);

    await page
      .locator('.factors li', { hasText: 'Email codes' })
      .getByRole('link', { name: 'Remove' })
      .click();
    await page.getByLabel('Your password').fill(BROWSER_PASSWORD);
    await page.getByRole('button', { name: 'Remove' }).click();
    await page.waitForURL(/notice=factor-removed/);
    expect(await page.locator('.factors li').count()).toBe(1);
    expect(await page.getByRole('link', { name: 'Remove' }).count()).toBe(0);
    await context.close();
  });

  test('turning two-factor off needs step-up (here an authenticator code) and deletes the recovery codes', async () => {
    const { context, page } = await newTestPage(live.browser);
    const { secret, userId } = await enrolled(page);
    await page.getByRole('link', { name: 'Turn off two-factor authentication' }).click();
    await page.getByLabel('A code from your authenticator app').fill(currentCode(live.server, secret));
    await page.getByRole('button', { name: 'Turn off two-factor authentication' }).click();
    await page.waitForURL(/notice=mfa-disabled/);
    expect(await page.locator('#mfa-status').textContent()).toBe('off');
    expect(await live.server.env.deps.store.getRecoveryCodeSummary(userId)).toBeUndefined();
    await context.close();
  });
});
