import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { OidcClientInput } from '../../src/service/oidc/clients.js';
import { registerOidcClient } from '../../src/service/oidc/clients.js';
import type { OidcClientKind } from '../../src/store/oidc-store.js';
import { launchBrowser } from './browser.js';
import { BROWSER_PASSWORD, currentCode } from './browser-flows.js';
import { configureRecoveryCodes } from './mfa.js';
import { type RelyingParty, startRelyingParty } from './oidc-relying-party.js';
import type { Engine } from './service-deps.js';
import { type RunningWebServer, startWebServer } from './web-server.js';

/** SpareKey listening with its issuer at its own address, its clock at real time (tokens carry times). */
export async function startProviderServer(
  engine: Engine = 'sqlite',
  options: { oidcKeyCheckIntervalMs?: number } = {},
): Promise<RunningWebServer> {
  const server = await startWebServer(engine, options);
  server.env.deps.options.publicUrl = server.url;
  server.env.clock.nowMs = Date.now();
  await configureRecoveryCodes(server.env);
  return server;
}

export const issuerOf = (server: RunningWebServer) => `${server.url}/oidc`;

/** An application registered for `rp`, and `rp` configured as it (discovery). */
export async function registerApp(
  server: RunningWebServer,
  rp: RelyingParty,
  settings: Partial<OidcClientInput> & {
    kind?: OidcClientKind;
    authMethod?: 'client_secret_basic' | 'client_secret_post';
  } = {},
): Promise<{ clientId: string; secret: string | null }> {
  const registered = await registerOidcClient(server.env.deps, {
    name: settings.name ?? 'Test application',
    redirectUris: settings.redirectUris ?? [rp.callbackUrl],
    postLogoutRedirectUris: settings.postLogoutRedirectUris ?? [rp.postLogoutUrl],
    kind: settings.kind ?? 'confidential',
    firstParty: settings.firstParty ?? true,
    twoFactorRequired: settings.twoFactorRequired ?? false,
    scopes: settings.scopes ?? ['openid', 'email', 'profile', 'groups'],
    context: { ip: null, userAgent: 'test' },
  });
  if (!registered.ok) throw new Error(registered.error);
  const { client, secret } = registered.value;
  await rp.configure({
    issuer: issuerOf(server),
    clientId: client.id,
    clientSecret: secret ?? undefined,
    authMethod: settings.authMethod,
  });
  return { clientId: client.id, secret };
}

/** The SpareKey sign-in page the application sent the browser to: email and password. */
export async function passwordOnSpareKey(page: Page, email: string): Promise<void> {
  await page.waitForURL(/\/sign-in\?/);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(BROWSER_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The second step with a code from the test's own RFC 6238 implementation. */
export async function totpOnSpareKey(page: Page, server: RunningWebServer, secret: string): Promise<void> {
  await page.waitForURL(/\/sign-in\/two-factor/);
  // A new time step for every code: SpareKey accepts each step once.
  server.env.clock.advance(30_000);
  await page.getByLabel('Authentication code').fill(currentCode(server, secret));
  await page.getByRole('button', { name: 'Verify' }).click();
}

/** Waits for the application's callback page and returns its text. */
export async function landedOnApp(page: Page, rp: RelyingParty): Promise<string> {
  try {
    await page.waitForURL((url) => url.href.startsWith(`${rp.url}/callback`));
  } catch (error) {
    // Say where the browser stopped instead of only that it timed out.
    const text =
      (await page
        .locator('body')
        .textContent()
        .catch(() => '')) ?? '';
    throw new Error(
      `not at the application but at ${page.url()}: ${text.replace(/\s+/g, ' ').slice(0, 600)}`,
      {
        cause: error,
      },
    );
  }
  return (await page.locator('body').textContent()) ?? '';
}

/** A provider server, a relying party and Chromium for a describe block. */
export function useProviderWorld(
  engine: Engine = 'sqlite',
  options: { oidcKeyCheckIntervalMs?: number } = {},
) {
  const world: {
    server?: RunningWebServer;
    rp?: RelyingParty;
    browser?: Awaited<ReturnType<typeof launchBrowser>>;
  } = {};
  beforeAll(async () => {
    world.server = await startProviderServer(engine, options);
    world.rp = await startRelyingParty();
    world.browser = await launchBrowser();
  });
  afterAll(async () => {
    await world.browser?.close();
    await world.rp?.close();
    await world.server?.close();
  });
  return {
    get server() {
      if (!world.server) throw new Error('the server did not start');
      return world.server;
    },
    get rp() {
      if (!world.rp) throw new Error('the relying party did not start');
      return world.rp;
    },
    get browser() {
      if (!world.browser) throw new Error('Chromium did not start');
      return world.browser;
    },
  };
}
