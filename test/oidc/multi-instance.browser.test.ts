import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createUser } from '../../src/service/accounts/accounts.js';
import type { ServiceDeps } from '../../src/service/deps.js';
import { registerOidcClient } from '../../src/service/oidc/clients.js';
import { browserAvailable, launchBrowser, newTestPage } from '../helpers/browser.js';
import { BROWSER_PASSWORD, uniqueEmail } from '../helpers/browser-flows.js';
import { type RelyingParty, startRelyingParty } from '../helpers/oidc-relying-party.js';
import { landedOnApp, passwordOnSpareKey } from '../helpers/oidc-world.js';
import { postgresAvailable } from '../helpers/postgres.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { freshDatabase, openLikeTheServers } from '../scale/scale-database.js';

const addressOf = (server: ServerProcess) => ({ host: '127.0.0.1', port: Number(new URL(server.url).port) });

/**
 * Issue 22, "all provider state in SpareKey's store": two real SpareKey processes (`src/main.ts`) on one
 * PostgreSQL database behind one public address (a TCP relay, as a load balancer would be). The person
 * signs in to the application on the first; the first is then stopped, and the token exchange, userinfo
 * and a refresh happen on the second, which never saw the authorization. Nothing is held in a process.
 */
describe.skipIf(!browserAvailable() || !postgresAvailable())(
  'OpenID Connect across two SpareKey processes on one PostgreSQL database',
  () => {
    let drop: () => Promise<void>;
    let close: () => Promise<void>;
    let deps: ServiceDeps;
    let servers: ServerProcess[] = [];
    let front: TcpProxy;
    let rp: RelyingParty;
    let browser: Browser;
    let publicUrl: string;
    let firstExit: number | null | undefined;

    beforeAll(async () => {
      // The public address first (the relay's port), since both processes take their issuer from it.
      front = await startTcpProxy({ host: '127.0.0.1', port: 9 });
      publicUrl = `http://127.0.0.1:${front.port}`;
      const database = await freshDatabase('postgres', { SPAREKEY_PUBLIC_URL: publicUrl });
      drop = database.drop;
      // Started together on a fresh database: they migrate it, and make the first signing key, at once.
      // A generous wait for readiness: on a busy 2-core machine two cold starts take longer than 30 s.
      servers = await Promise.all([
        startServerProcess(database.env, 120_000),
        startServerProcess(database.env, 120_000),
      ]);
      ({ deps, close } = await openLikeTheServers(database.env));
      // The callback (carrying the code the first process issued) is held while the first process stops
      // and the public address moves to the second; then the application redeems the code there.
      rp = await startRelyingParty({
        beforeTokenExchange: async () => {
          const [first, second] = servers as [ServerProcess, ServerProcess];
          if (first.child.exitCode !== null) return;
          firstExit = await first.stop();
          front.retarget(addressOf(second));
        },
      });
      browser = await launchBrowser();
    }, 240_000);
    afterAll(async () => {
      await browser?.close();
      await rp?.close();
      await Promise.all(servers.map((server) => server.stop()));
      await front?.stop();
      await close?.();
      await drop?.();
    });

    test('authorization on one process; token exchange, userinfo and refresh on the other after the first has stopped', async () => {
      const [first, second] = servers as [ServerProcess, ServerProcess];
      const issuer = `${publicUrl}/oidc`;
      // Both processes publish the one signing key the store holds.
      const jwksOf = async (server: ServerProcess) =>
        (await (await fetch(`${server.url}/oidc/jwks`)).json()) as JSONWebKeySet;
      const published = await jwksOf(first);
      expect(published.keys).toHaveLength(1);
      expect(await jwksOf(second)).toEqual(published);

      const email = uniqueEmail('oidc-multi');
      const user = await createUser(deps, { email, password: BROWSER_PASSWORD, context: {} });
      if (!user.ok) throw new Error(user.error);
      const registered = await registerOidcClient(deps, {
        name: 'Two-instance app',
        redirectUris: [rp.callbackUrl],
        postLogoutRedirectUris: [],
        kind: 'confidential',
        firstParty: true,
        twoFactorRequired: false,
        scopes: ['openid', 'email', 'offline_access'],
        context: {},
      });
      if (!registered.ok) throw new Error(registered.error);
      const clientId = registered.value.client.id;

      front.retarget(addressOf(first));
      await rp.configure({ issuer, clientId, clientSecret: registered.value.secret ?? undefined });

      const { context, page } = await newTestPage(browser);
      try {
        await page.goto(`${rp.url}/login?scope=openid%20email%20offline_access&prompt=consent`);
        await passwordOnSpareKey(page, email);
        await landedOnApp(page, rp);
      } finally {
        await context.close();
      }
      // The first process was stopped, and exited cleanly, before the code was redeemed.
      expect(firstExit).toBe(0);

      const result = rp.results.at(-1);
      expect(result?.error).toBeUndefined();
      expect(result?.callbackQuery.iss).toBe(issuer);
      expect(result?.claims).toMatchObject({
        iss: issuer,
        aud: clientId,
        sub: user.value.userId,
        amr: ['pwd'],
      });
      // The ID token from the second process is signed with the key both published.
      await jwtVerify(String(result?.tokens?.id_token), createLocalJWKSet(published), {
        issuer,
        audience: clientId,
      });

      const tokens = result?.tokens as oidc.TokenEndpointResponse;
      const info = await oidc.fetchUserInfo(rp.config(), tokens.access_token, user.value.userId);
      expect(info.email).toBe(email);
      const refreshed = await oidc.refreshTokenGrant(rp.config(), String(tokens.refresh_token));
      expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
      expect(refreshed.claims()?.sub).toBe(user.value.userId);

      // The sign-in was audited (by the first process) with the application and the methods it was told.
      const events = await deps.store.listAuditEvents({ limit: 5, action: 'oidc_sign_in' });
      expect(events[0]).toMatchObject({
        userId: user.value.userId,
        details: { client_id: clientId, amr: 'pwd' },
      });
    }, 90_000);
  },
);
