import type { Page } from 'playwright-core';
import { totpCode } from './rfc6238.js';
import type { RunningWebServer } from './web-server.js';

export const BROWSER_PASSWORD = 'lantern-orchard-fold-93';

let counter = 0;
export const uniqueEmail = (prefix: string) => `${prefix}-${Date.now()}-${++counter}@example.test`;

export async function signUp(page: Page, server: RunningWebServer, email: string): Promise<void> {
  await page.goto(`${server.url}/sign-up`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(BROWSER_PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  // The same answer for a new and a taken address: sign in next, as anyone would.
  await page.waitForURL(/\/sign-in\?notice=signed-up/);
  await signInWithPassword(page, server, email);
  await page.waitForURL(/\/settings\/two-factor/);
}

export async function signInWithPassword(page: Page, server: RunningWebServer, email: string): Promise<void> {
  await page.goto(`${server.url}/sign-in`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(BROWSER_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The codes on a "shown once" page. */
export async function codesOnPage(page: Page): Promise<string[]> {
  return page.locator('#recovery-codes code').allTextContents();
}

/** The current code, computed by the test's own RFC 6238 implementation from the key shown on the page. */
export function currentCode(server: RunningWebServer, secret: string): string {
  return totpCode(secret, { timeMs: server.env.clock.nowMs });
}

/**
 * Settings → Two-factor → Authenticator app, reading the key from "Can't scan it?" as a person would,
 * then the code from an independent TOTP implementation. Ends on the recovery-codes page.
 */
export async function setUpAuthenticator(page: Page, server: RunningWebServer): Promise<{ secret: string }> {
  await page.goto(`${server.url}/settings/two-factor`);
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  await page.locator('figure.qr svg').waitFor();
  await page.getByText("Can't scan it?").click();
  const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '');
  await page.getByLabel('Enter the 6-digit code your app shows').fill(currentCode(server, secret));
  await page.getByRole('button', { name: 'Verify and turn on' }).click();
  // A person's next code comes from a later time step.
  server.env.clock.advance(30_000);
  return { secret };
}

/** Ticks "I have saved these codes" ("this code" for a set of one) and finishes. */
export async function acknowledgeCodes(page: Page): Promise<void> {
  await page.getByLabel(/^I have saved th(ese codes|is code)$/).check();
  await page.getByRole('button', { name: 'Done' }).click();
  await page.waitForURL(/notice=codes-saved/);
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/sign-in/);
}
