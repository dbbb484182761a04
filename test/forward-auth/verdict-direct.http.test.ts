import { request as httpRequest } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../../src/build-server.js';
import { FORWARD_AUTH_PATHS } from '../../src/http/routes/forward-auth.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import type { TestEnvironment } from '../helpers/service-deps.js';
import { signUpThroughPages } from '../helpers/web-flows.js';
import { type ForwardAuthWorld, startForwardAuthWorld } from './forward-auth-world.js';

/**
 * Issue 24 ("fast"): the HTTP server hands verdict requests to the verdict edge before Fastify sees them
 * (createVerdictEdge's answerDirect), and Fastify's routes for the same paths (what `inject` and every other
 * test reaches) give the same answer. Here both ways are asked the same questions over the same server: the
 * answers must be the same, byte for byte but for the date and the request id, and be counted once.
 */
let world: ForwardAuthWorld;
let env: TestEnvironment;
let app: FastifyInstance;
let origin: string;
let signedInCookie: string;
let throughFastify = 0;

beforeAll(async () => {
  // Behind the proxy, as docs/integrations.md configures it: the client's address is X-Forwarded-For's.
  world = await startForwardAuthWorld('sqlite', {
    trustProxy: true,
    // Counts what reaches Fastify's own request handling on the verdict paths.
    beforeReady: (app) =>
      app.addHook('onRequest', async (request) => {
        if (request.url.startsWith('/api/verify/')) throughFastify += 1;
      }),
  });
  ({ env, app } = world);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('not listening');
  origin = `http://127.0.0.1:${address.port}`;
  await configureRecoveryCodes(env);
  const client = world.client();
  await signUpThroughPages(client, 'direct@example.test');
  signedInCookie = [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
});
afterAll(async () => world?.close());

interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

/** A request over a real connection to the listening server (the way a proxy asks). */
function overSocket(path: string, options: { method?: string; headers?: Record<string, string> } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const call = httpRequest(`${origin}${path}`, {
      method: options.method ?? 'GET',
      headers: options.headers,
    });
    call.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({ statusCode: response.statusCode ?? 0, headers: response.headers, body }),
      );
    });
    call.on('error', reject);
    call.end();
  });
}

/** What must match between the two ways: everything but the transport's own headers and the random id. */
function comparable(answer: Answer) {
  const {
    date: _date,
    connection: _connection,
    'keep-alive': _keepAlive,
    'x-request-id': id,
    ...headers
  } = answer.headers;
  return { statusCode: answer.statusCode, headers, body: answer.body, hasRequestId: typeof id === 'string' };
}

const nginx = (url: string, more: Record<string, string> = {}) => ({ 'x-original-url': url, ...more });
const caddy = (url: string, method = 'GET') => {
  const target = new URL(url);
  return {
    'x-forwarded-method': method,
    'x-forwarded-proto': target.protocol.slice(0, -1),
    'x-forwarded-host': target.host,
    'x-forwarded-uri': `${target.pathname}${target.search}`,
  };
};

const CASES: {
  name: string;
  path: string;
  method?: string;
  headers: () => Record<string, string>;
  status: number;
}[] = [
  {
    name: 'signed in, allowed',
    path: FORWARD_AUTH_PATHS.authRequest,
    headers: () => ({ cookie: signedInCookie, ...nginx('https://app.example.com/a?b=1') }),
    status: 200,
  },
  {
    name: 'signed in, allowed, Caddy',
    path: FORWARD_AUTH_PATHS.forwardAuth,
    headers: () => ({ cookie: `other=1; ${signedInCookie}; last=2`, ...caddy('https://app.example.com/x') }),
    status: 200,
  },
  {
    name: 'anonymous, nginx',
    path: FORWARD_AUTH_PATHS.authRequest,
    headers: () => nginx('https://app.example.com/a'),
    status: 401,
  },
  {
    name: 'anonymous, Caddy',
    path: FORWARD_AUTH_PATHS.forwardAuth,
    headers: () => caddy('https://app.example.com/a'),
    status: 302,
  },
  {
    name: 'anonymous, Caddy, after a POST',
    path: FORWARD_AUTH_PATHS.forwardAuth,
    headers: () => caddy('https://app.example.com/form', 'POST'),
    status: 303,
  },
  {
    name: 'a deny rule',
    path: `${FORWARD_AUTH_PATHS.authRequest}?ignored=1`,
    headers: () => ({ cookie: signedInCookie, ...nginx('https://app.example.com/blocked/') }),
    status: 403,
  },
  {
    name: 'no proxy headers',
    path: FORWARD_AUTH_PATHS.authRequest,
    headers: () => ({}),
    status: 400,
  },
  {
    name: 'HEAD, signed in',
    path: FORWARD_AUTH_PATHS.authRequest,
    method: 'HEAD',
    headers: () => ({ cookie: signedInCookie, ...nginx('https://app.example.com/a') }),
    status: 200,
  },
  {
    name: 'POST to a verdict path (no such route)',
    path: FORWARD_AUTH_PATHS.authRequest,
    method: 'POST',
    headers: () => nginx('https://app.example.com/a'),
    status: 404,
  },
];

describe('a verdict over a real connection is the answer Fastify gives (issue 24)', () => {
  test.each(CASES)('$name: $status both ways, the same headers and body', async (example) => {
    const method = example.method ?? 'GET';
    const direct = await overSocket(example.path, { method, headers: example.headers() });
    const routed = await app.inject({
      method: method as 'GET',
      url: example.path,
      headers: example.headers(),
    });
    expect(direct.statusCode).toBe(example.status);
    const { rawPayload: _raw, ...fromInject } = routed;
    expect(comparable(direct)).toEqual(
      comparable({ statusCode: fromInject.statusCode, headers: fromInject.headers, body: fromInject.body }),
    );
    expect(comparable(direct).hasRequestId).toBe(true);
  });

  test('over a connection, a GET or HEAD verdict never reaches Fastify; inject and other methods do', async () => {
    const headers = { cookie: signedInCookie, ...nginx('https://app.example.com/a') };
    const before = throughFastify;
    for (const method of ['GET', 'HEAD']) {
      for (const path of [...Object.values(FORWARD_AUTH_PATHS), `${FORWARD_AUTH_PATHS.authRequest}?x=1`]) {
        expect((await overSocket(path, { method, headers })).statusCode).toBeLessThan(500);
      }
    }
    expect(throughFastify).toBe(before);
    await app.inject({ method: 'GET', url: FORWARD_AUTH_PATHS.authRequest, headers });
    await overSocket(FORWARD_AUTH_PATHS.authRequest, { method: 'POST', headers });
    await overSocket(`${FORWARD_AUTH_PATHS.authRequest}/`, { headers });
    expect(throughFastify).toBe(before + 3);
  });

  test('a safe X-Request-Id comes back as sent; an unsafe one is replaced', async () => {
    const headers = { cookie: signedInCookie, ...nginx('https://app.example.com/a') };
    const kept = await overSocket(FORWARD_AUTH_PATHS.authRequest, {
      headers: { ...headers, 'x-request-id': 'abc-123' },
    });
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await overSocket(FORWARD_AUTH_PATHS.authRequest, {
      headers: { ...headers, 'x-request-id': 'line\tbreak{}' },
    });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("a denial is audited with the client's address from X-Forwarded-For (trustProxy), as Fastify reads it", async () => {
    const denied = await overSocket(FORWARD_AUTH_PATHS.authRequest, {
      headers: {
        ...nginx('https://app.example.com/blocked/direct-ip'),
        'x-forwarded-for': '203.0.113.9, 10.0.0.2',
      },
    });
    expect(denied.statusCode).toBe(403);
    const events = await env.deps.store.listAuditEvents({ action: 'forward_auth_denied', limit: 50 });
    const mine = events.find((event) => (event.details as { path?: string }).path === '/blocked/direct-ip');
    expect(mine?.ip).toBe('203.0.113.9');
  });

  test("without trustProxy, X-Forwarded-For is ignored: a denial is audited with the connection's own address", async () => {
    const direct = await buildServer({ deps: env.deps });
    await direct.listen({ host: '127.0.0.1', port: 0 });
    try {
      const address = direct.server.address();
      if (!address || typeof address === 'string') throw new Error('not listening');
      const denied = await fetch(`http://127.0.0.1:${address.port}${FORWARD_AUTH_PATHS.authRequest}`, {
        headers: { ...nginx('https://app.example.com/blocked/no-trust'), 'x-forwarded-for': '203.0.113.10' },
      });
      expect(denied.status).toBe(403);
      const events = await env.deps.store.listAuditEvents({ action: 'forward_auth_denied', limit: 50 });
      const mine = events.find((event) => (event.details as { path?: string }).path === '/blocked/no-trust');
      expect(mine?.ip).toBe('127.0.0.1');
    } finally {
      await direct.close();
    }
  });

  test('each verdict request is counted once in /metrics, whichever way it came', async () => {
    const count = async () => {
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      const line = metrics
        .split('\n')
        .find((l) =>
          l.startsWith(
            'sparekey_http_requests_total{method="GET",route="/api/verify/auth-request",status="401"}',
          ),
        );
      return Number(line?.split(' ').at(-1) ?? 0);
    };
    const before = await count();
    const headers = nginx('https://app.example.com/counted');
    for (let i = 0; i < 3; i++)
      expect((await overSocket(FORWARD_AUTH_PATHS.authRequest, { headers })).statusCode).toBe(401);
    for (let i = 0; i < 2; i++)
      expect(
        (await app.inject({ method: 'GET', url: FORWARD_AUTH_PATHS.authRequest, headers })).statusCode,
      ).toBe(401);
    expect((await count()) - before).toBe(5);
  });
});
