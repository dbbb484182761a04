import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildServer } from '../../src/build-server.js';
import { parseAccessRules } from '../../src/core/access-rules.js';
import { createTestEnvironment, type Engine, type TestEnvironment } from '../helpers/service-deps.js';
import { FormClient } from '../helpers/web-client.js';

/** The access rules of the configuration file in these tests (docs/integrations.md has the same shape). */
export const TEST_RULES = {
  defaultPolicy: 'deny',
  rules: [
    { name: 'blocked', hosts: ['app.example.com'], pathPrefix: '/blocked', policy: 'deny' },
    { name: 'ops-only', hosts: ['ops.example.com'], roles: ['ops'], policy: 'one_factor' },
    { name: 'app', hosts: ['app.example.com'], policy: 'one_factor' },
    { name: 'secure', hosts: ['secure.example.com'], policy: 'two_factor' },
  ],
};

export interface ForwardAuthWorld {
  env: TestEnvironment;
  app: FastifyInstance;
  client(): FormClient;
  /** What the proxy sends for the app's request: the browser's cookies and where it was going. */
  verify(
    client: FormClient | undefined,
    target: string,
    options?: { mode?: 'auth-request' | 'forward-auth'; method?: string },
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** SpareKey at https://auth.example.com protecting *.example.com, with TEST_RULES from its configuration. */
export async function startForwardAuthWorld(
  engine: Engine = 'sqlite',
  options: {
    logs?: NodeJS.WritableStream;
    /** Behind the proxy: client addresses from X-Forwarded-For. */
    trustProxy?: boolean;
    /** Runs on the app before it is ready (hooks a test adds). */
    beforeReady?: (app: FastifyInstance) => void;
  } = {},
): Promise<ForwardAuthWorld> {
  const env = await createTestEnvironment(engine);
  const parsed = parseAccessRules(TEST_RULES);
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  env.deps.options.publicUrl = 'https://auth.example.com';
  env.deps.options.forwardAuth = { cookieDomain: 'example.com', rules: parsed.rules, defaultPolicy: 'deny' };
  const app = await buildServer({
    deps: env.deps,
    trustProxy: options.trustProxy ?? false,
    ...(options.logs ? { logger: { level: 'info', stream: options.logs } } : {}),
  });
  options.beforeReady?.(app);
  await app.ready();
  return {
    env,
    app,
    client: () => new FormClient(app),
    verify: (client, target, options = {}) => {
      const cookie = client ? [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; ') : '';
      const method = options.method ?? 'GET';
      if (options.mode === 'forward-auth') {
        const url = new URL(target);
        return app.inject({
          method: 'GET',
          url: '/api/verify/forward-auth',
          headers: {
            cookie,
            'x-forwarded-method': method,
            'x-forwarded-proto': url.protocol.slice(0, -1),
            'x-forwarded-host': url.host,
            'x-forwarded-uri': `${url.pathname}${url.search}`,
          },
        });
      }
      return app.inject({
        method: 'GET',
        url: '/api/verify/auth-request',
        headers: { cookie, 'x-original-url': target, 'x-original-method': method },
      });
    },
    close: async () => {
      await app.close();
      await env.close();
    },
  };
}
