import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Page } from 'playwright-core';

const browserBundle = readFileSync(
  join(
    dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')),
    '../dist/bundle/index.umd.min.js',
  ),
);

/**
 * A host application's own page, on its own origin (http://localhost:<port>): it serves
 * @simplewebauthn/browser and nothing of SpareKey's, as an app that draws its own pages does. The test plays
 * the app's backend, calling SpareKey's JSON API, and hands the options to this page and the answers back.
 */
export async function startHostPage(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    if (request.url === '/simplewebauthn-browser.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      response.end(browserBundle);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      '<!doctype html><title>Host app</title><script src="/simplewebauthn-browser.js"></script><h1>Host app</h1>',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    // Browsers refuse an IP address as RP ID: the page is reached as localhost (a secure context).
    url: `http://localhost:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Ceremony = (input: { optionsJSON: unknown }) => Promise<unknown>;
interface SimpleWebAuthnBrowser {
  startRegistration: Ceremony;
  startAuthentication: Ceremony;
}

/** The browser's answer to navigator.credentials.create() for `options`, from the page's authenticator. */
export async function createInPage(page: Page, options: unknown): Promise<RegistrationResponseJSON> {
  await page.waitForFunction(() => 'SimpleWebAuthnBrowser' in globalThis);
  return page.evaluate(
    (optionsJSON) =>
      (
        globalThis as unknown as { SimpleWebAuthnBrowser: SimpleWebAuthnBrowser }
      ).SimpleWebAuthnBrowser.startRegistration({ optionsJSON }),
    options,
  ) as Promise<RegistrationResponseJSON>;
}

/** The browser's answer to navigator.credentials.get() for `options`. */
export async function getInPage(page: Page, options: unknown): Promise<AuthenticationResponseJSON> {
  await page.waitForFunction(() => 'SimpleWebAuthnBrowser' in globalThis);
  return page.evaluate(
    (optionsJSON) =>
      (
        globalThis as unknown as { SimpleWebAuthnBrowser: SimpleWebAuthnBrowser }
      ).SimpleWebAuthnBrowser.startAuthentication({ optionsJSON }),
    options,
  ) as Promise<AuthenticationResponseJSON>;
}
