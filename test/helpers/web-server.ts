import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { buildServer } from '../../src/build-server.js';
import { launchBrowser } from './browser.js';
import { createTestEnvironment, type Engine, type TestEnvironment } from './service-deps.js';

export interface RunningWebServer {
  env: TestEnvironment;
  app: FastifyInstance;
  /** http://127.0.0.1:<port> */
  url: string;
  close(): Promise<void>;
}

/**
 * The real server, listening on 127.0.0.1, on a real database, with a real SMTP server for its mail.
 * `oidcKeyCheckIntervalMs`: how often the provider looks for rotated signing keys (0: on every request).
 */
export async function startWebServer(
  engine: Engine = 'sqlite',
  options: { oidcKeyCheckIntervalMs?: number } = {},
): Promise<RunningWebServer> {
  const env = await createTestEnvironment(engine, { notifications: true });
  const app = await buildServer({ deps: env.deps, oidcKeyCheckIntervalMs: options.oidcKeyCheckIntervalMs });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    env,
    app,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      await env.close();
    },
  };
}

/**
 * One real server and one Chromium for a describe block: started before its tests (after `prepare`,
 * e.g. the operator's settings), closed after them.
 */
export function useServerAndBrowser(prepare?: (server: RunningWebServer) => Promise<void>): {
  readonly server: RunningWebServer;
  readonly browser: Browser;
} {
  let server: RunningWebServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    server = await startWebServer();
    await prepare?.(server);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    get server() {
      if (!server) throw new Error('the server did not start (see the beforeAll failure)');
      return server;
    },
    get browser() {
      if (!browser) throw new Error('Chromium did not start (see the beforeAll failure)');
      return browser;
    },
  };
}
