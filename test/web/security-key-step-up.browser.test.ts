import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { browserAvailable, newTestPage } from '../helpers/browser.js';
import { acknowledgeCodes, codesOnPage, signUp, uniqueEmail } from '../helpers/browser-flows.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { useSecurityKeysOn } from '../helpers/security-keys.js';
import { VirtualAuthenticator, type VirtualAuthenticatorKind } from '../helpers/virtual-authenticator.js';
import { useServerAndBrowser } from '../helpers/web-server.js';

const REGENERATE = '/settings/two-factor/recovery-codes/regenerate';
const WITH_KEY = 'Generate new codes with your security key';

/**
 * Issue 23, "Step-up accepts a security key" (STANDARDS req 11): a person whose second factor is a key
 * proves it is them with the key before a protected change, in Chromium with its virtual authenticator.
 * A key the server refuses, or a ceremony the person cancels, leaves the change undone.
 */
describe.skipIf(!browserAvailable())('step-up with a security key in Chromium', () => {
  const live = useServerAndBrowser(async (server) => {
    await configureRecoveryCodes(server.env);
    useSecurityKeysOn(server);
  });

  /** Signed up, a key added as the only factor, its first codes acknowledged; returns them. */
  const personWithKey = async (kind: VirtualAuthenticatorKind, prefix: string) => {
    const { context, page } = await newTestPage(live.browser);
    const key = await VirtualAuthenticator.attach(context, page, kind);
    const email = uniqueEmail(prefix);
    await signUp(page, live.server, email);
    await page.getByLabel('Name it, so you can tell your keys apart').fill('My key');
    await page.getByRole('button', { name: 'Add a security key or passkey' }).click();
    await page.locator('#recovery-codes').waitFor();
    const codes = await codesOnPage(page);
    await acknowledgeCodes(page);
    const userId = (await live.server.env.deps.store.findUserByEmail(email))?.id as string;
    return { context, page, key, userId, codes };
  };

  const regenerations = async (userId: string) =>
    (
      await live.server.env.deps.store.listAuditEvents({
        userId,
        action: 'recovery_codes_regenerated',
        limit: 10,
      })
    ).length;

  /** The user's latest step-up event, passed or failed. */
  const lastStepUp = async (userId: string) =>
    (await live.server.env.deps.store.listAuditEvents({ userId, limit: 50 })).find((event) =>
      ['step_up', 'step_up_failed'].includes(event.action),
    );

  const openRegenerate = async (page: Page) => {
    await page.goto(`${live.server.url}${REGENERATE}`);
    await page.getByRole('button', { name: WITH_KEY }).waitFor();
  };

  test('the key proves it is you: new codes are shown; a key the server refuses changes nothing', async () => {
    const { context, page, key, userId, codes } = await personWithKey('usb', 'step-up-key');
    const before = await regenerations(userId);
    await openRegenerate(page);
    await page.getByRole('button', { name: WITH_KEY }).click();
    await page.getByRole('heading', { name: 'Your new recovery codes' }).waitFor();
    const fresh = await codesOnPage(page);
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((code) => codes.includes(code))).toEqual([]);
    expect(await regenerations(userId)).toBe(before + 1);
    expect(await lastStepUp(userId)).toMatchObject({ action: 'step_up', details: { method: 'webauthn' } });
    const [verified] = await live.server.env.deps.store.listAuditEvents({
      userId,
      action: 'webauthn_verified',
      limit: 1,
    });
    expect(verified?.details).toMatchObject({ ceremony: 'step_up' });
    await acknowledgeCodes(page);

    // The key now answers with a counter that went backwards (a cloned key): the server refuses it, the
    // form says so, and the codes stay as they are.
    await key.rollBackCounter(0);
    await openRegenerate(page);
    await page.getByRole('button', { name: WITH_KEY }).click();
    await page.locator('#form-error').waitFor();
    expect(await page.locator('#form-error').textContent()).toContain('security key was not accepted');
    expect(new URL(page.url()).pathname).toBe(REGENERATE);
    expect(await page.locator('#recovery-codes').count()).toBe(0);
    expect(await regenerations(userId)).toBe(before + 1);
    expect(await lastStepUp(userId)).toMatchObject({
      action: 'step_up_failed',
      details: { method: 'webauthn' },
    });
    const [regressed] = await live.server.env.deps.store.listAuditEvents({
      userId,
      action: 'webauthn_counter_regressed',
      limit: 1,
    });
    expect(regressed?.details).toMatchObject({ ceremony: 'step_up' });
    await context.close();
  });

  test('a cancelled ceremony says so in words, posts nothing, and keeps the password on the page', async () => {
    const { context, page, key, userId } = await personWithKey('internal', 'step-up-cancel');
    const before = await regenerations(userId);
    await key.declineVerification();
    await openRegenerate(page);
    await page.getByRole('button', { name: WITH_KEY }).click();
    const problem = page.locator('#step-up-security-key .webauthn-error');
    await problem.waitFor();
    expect(await problem.textContent()).toContain('cancelled or timed out');
    expect(new URL(page.url()).pathname).toBe(REGENERATE);
    await page.getByLabel('Your password').waitFor();
    expect(await regenerations(userId)).toBe(before);
    expect(await lastStepUp(userId)).toBeUndefined();
    await context.close();
  });
});
