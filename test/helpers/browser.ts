import { existsSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium: the tests never download a browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * For `describe.skipIf(!browserAvailable())`. Under CI a missing Chromium is a failure, not a skip: this
 * says "available" and `launchBrowser` throws. On a developer's machine without it the suites are skipped.
 */
export function browserAvailable(): boolean {
  return existsSync(CHROMIUM_PATH) || process.env.CI === 'true';
}

/** `args`: extra Chromium switches, e.g. --host-resolver-rules to send test domains to 127.0.0.1. */
export async function launchBrowser(options: { args?: string[] } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM_PATH}: install Debian's chromium: apt-get install -y chromium`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // The machine's network is closed: without these Chromium keeps trying to reach Google's services.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(options.args ?? []),
    ],
  });
}

/** A fresh context (its own cookies) per person in a test. */
export async function newTestPage(
  browser: Browser,
  options: { javaScriptEnabled?: boolean; viewport?: { width: number; height: number } } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const javaScriptEnabled = options.javaScriptEnabled ?? true;
  const context = await browser.newContext({
    acceptDownloads: true,
    javaScriptEnabled,
    viewport: options.viewport ?? { width: 1000, height: 800 },
  });
  if (javaScriptEnabled) await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  context.setDefaultTimeout(10_000);
  return { context, page: await context.newPage() };
}

/**
 * A full-page PNG. A relative name goes under test-results/screenshots (ignored by git), or under
 * SCREENSHOT_DIR: `npm run screenshots` points that at docs/screenshots to refresh the README's pictures.
 * An absolute path is used as is. Missing directories are created.
 */
export async function screenshotTo(page: Page, name: string): Promise<void> {
  const path = isAbsolute(name) ? name : join(process.env.SCREENSHOT_DIR ?? 'test-results/screenshots', name);
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
}
