import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { buildServer } from '../../src/build-server.js';
import { parseAccessRules } from '../../src/core/access-rules.js';
import { createUser } from '../../src/service/accounts/accounts.js';
import { launchBrowser } from '../helpers/browser.js';
import { configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { createTestEnvironment, type TestEnvironment } from '../helpers/service-deps.js';
import {
  type RunningProxy,
  startCaddy,
  startNginx,
  startUpstreamApp,
  TEST_DOMAIN,
  type UpstreamApp,
} from './proxy-harness.js';

export const PROXY_PASSWORD = 'lantern-orchard-fold-93';

/** The operator's rules in these tests: app needs two factors, app2 is for the ops role, /blocked is denied. */
export const PROXY_RULES = {
  defaultPolicy: 'deny',
  rules: [
    { name: 'blocked', hosts: [`app.${TEST_DOMAIN}`], pathPrefix: '/blocked', policy: 'deny' },
    { name: 'app', hosts: [`app.${TEST_DOMAIN}`], policy: 'two_factor' },
    { name: 'app2-ops', hosts: [`app2.${TEST_DOMAIN}`], roles: ['ops'], policy: 'one_factor' },
  ],
};

export interface ProxyWorld {
  env: TestEnvironment;
  app: FastifyInstance;
  upstream: UpstreamApp;
  proxy: RunningProxy;
  browser: Browser;
  /** An account with a password (and an authenticator app unless `totp: false`); its key. */
  account(email: string, options?: { roles?: string[]; totp?: boolean }): Promise<{ secret?: string }>;
  /** A raw request through the proxy to a test host, with any headers (a client that is not a browser). */
  raw(
    host: string,
    path: string,
    options?: { method?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; location?: string; body: string }>;
  close(): Promise<void>;
}

/**
 * SpareKey (real server on 127.0.0.1), a tiny upstream app, the real proxy in front of both as
 * docs/integrations.md configures it, and Chromium resolving *.sparekey.localhost to 127.0.0.1 through its
 * own switch (not /etc/hosts).
 */
export async function startProxyWorld(kind: 'nginx' | 'caddy'): Promise<ProxyWorld> {
  const env = await createTestEnvironment('sqlite');
  const parsed = parseAccessRules(PROXY_RULES);
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  env.deps.options.forwardAuth = { cookieDomain: TEST_DOMAIN, rules: parsed.rules, defaultPolicy: 'deny' };
  await configureRecoveryCodes(env);
  const app = await buildServer({ deps: env.deps, trustProxy: true });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const sparekeyPort = (app.server.address() as AddressInfo).port;
  const upstream = await startUpstreamApp();
  const started: { close(): Promise<void> }[] = [
    upstream,
    { close: () => app.close() },
    { close: () => env.close() },
  ];
  try {
    const ports = { sparekey: sparekeyPort, app: upstream.port };
    const proxy = kind === 'nginx' ? await startNginx(ports) : await startCaddy(ports);
    started.unshift(proxy);
    env.deps.options.publicUrl = proxy.origin('auth');
    const browser = await launchBrowser({ args: [`--host-resolver-rules=MAP *.${TEST_DOMAIN} 127.0.0.1`] });
    started.unshift({ close: () => browser.close() });
    return {
      env,
      app,
      upstream,
      proxy,
      browser,
      account: async (email, options = {}) => {
        const created = await createUser(env.deps, { email, password: PROXY_PASSWORD, context: {} });
        if (!created.ok) throw new Error(created.error);
        if (options.roles) await env.deps.store.setUserRoles(created.value.userId, options.roles);
        if (options.totp === false) return {};
        return { secret: (await enableTotp(env, created.value.userId)).secret };
      },
      raw: (host, path, options = {}) =>
        new Promise((resolve, reject) => {
          const outgoing = httpRequest(
            {
              host: '127.0.0.1',
              port: proxy.port,
              path,
              method: options.method ?? 'GET',
              headers: { ...options.headers, host: `${host}.${TEST_DOMAIN}:${proxy.port}` },
            },
            (response) => {
              let body = '';
              response.on('data', (chunk) => {
                body += String(chunk);
              });
              response.on('end', () =>
                resolve({ status: response.statusCode ?? 0, location: response.headers.location, body }),
              );
            },
          );
          outgoing.on('error', reject);
          outgoing.end();
        }),
      close: () => closeAll(started),
    };
  } catch (error) {
    await closeAll(started);
    throw error;
  }
}

async function closeAll(started: { close(): Promise<void> }[]): Promise<void> {
  for (const item of started) await item.close().catch(() => undefined);
}
