import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import type { PostRecoveryPolicy } from '../../src/core/policy.js';
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
import { landedOnApp, passwordOnSpareKey, registerApp, useProviderWorld } from '../helpers/oidc-world.js';

/**
 * A recovery code as the second factor of an application's sign-in, under each post-recovery policy:
 * the application is told (amr names recovery_code), and each policy's page comes first.
 */
describe.skipIf(!browserAvailable())('signing in to an application with a recovery code', () => {
  const world = useProviderWorld();

  async function enrolledPerson(page: Page) {
    const email = uniqueEmail('oidc-recovery');
    await signUp(page, world.server, email);
    await setUpAuthenticator(page, world.server);
    const codes = await codesOnPage(page);
    await acknowledgeCodes(page);
    await signOut(page);
    return { email, codes };
  }

  async function signInWithRecoveryCode(page: Page, email: string, code: string) {
    await page.goto(`${world.rp.url}/login`);
    await passwordOnSpareKey(page, email);
    await page.getByRole('link', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
  }

  const cases: [PostRecoveryPolicy, (page: Page) => Promise<void>][] = [
    // The remaining-codes page, then on to the application.
    ['continue', (page) => page.getByRole('link', { name: 'Continue to the application' }).click()],
    // The new codes are shown before the application is reached.
    [
      'rotate',
      async (page) => {
        expect(await page.getByRole('heading', { name: 'Your new recovery codes' }).isVisible()).toBe(true);
        expect(await codesOnPage(page)).toHaveLength(10);
        await page.getByRole('link', { name: 'I have saved these codes: continue' }).click();
      },
    ],
    // Explained first; this application does not require two factors, so the person may go on.
    [
      'disable_mfa',
      async (page) => {
        expect(
          await page.getByRole('heading', { name: 'Two-factor authentication is off' }).isVisible(),
        ).toBe(true);
        await page.getByRole('link', { name: 'Continue to the application without it' }).click();
      },
    ],
  ];

  test.each(cases)(
    'policy %s: its page first, then the application, told amr pwd + mfa + recovery_code',
    async (policy, thenOn) => {
      const { server, rp, browser } = world;
      await configureRecoveryCodes(server.env, { policy });
      const { clientId } = await registerApp(server, rp);
      const { context, page } = await newTestPage(browser);
      try {
        const { email, codes } = await enrolledPerson(page);
        await signInWithRecoveryCode(page, email, codes[0] as string);
        await thenOn(page);
        expect(await landedOnApp(page, rp)).toMatch(/^signed in as /);
        expect(rp.results.at(-1)?.claims).toMatchObject({
          aud: clientId,
          amr: ['pwd', 'mfa', 'recovery_code'],
          acr: 'urn:sparekey:acr:2fa',
        });
        const [event] = await server.env.deps.store.listAuditEvents({ limit: 1, action: 'oidc_sign_in' });
        expect(event?.details).toMatchObject({ client_id: clientId, amr: 'pwd mfa recovery_code' });
      } finally {
        await context.close();
        await configureRecoveryCodes(server.env, { policy: 'continue' });
      }
    },
  );
});
