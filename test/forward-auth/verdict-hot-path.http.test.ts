import { PassThrough } from 'node:stream';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FORWARD_AUTH_PATHS } from '../../src/http/routes/forward-auth.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { signUpThroughPages } from '../helpers/web-flows.js';
import { type ForwardAuthWorld, startForwardAuthWorld } from './forward-auth-world.js';

/**
 * Issue 24 ("fast"): a verdict is asked for every request a proxy serves, so it leaves out the per-request
 * work that serves the pages: the request log lines, the pages' hooks, the request-duration histogram.
 * What stays is what an operator relies on: the verdicts' counts, warnings and errors in the log, and the
 * security headers and error shape of every answer.
 */
const PAGE = 'https://app.example.com/reports/q3?tab=2';
const lines: { msg?: string; level?: number; req?: { path?: string } }[] = [];
let world: ForwardAuthWorld;

beforeAll(async () => {
  const logs = new PassThrough();
  logs.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
  });
  world = await startForwardAuthWorld('sqlite', { logs });
  await configureRecoveryCodes(world.env);
});
afterAll(async () => world?.close());

describe('a verdict costs little per request (issue 24)', () => {
  test('verdicts are not logged per request at info; pages still are', async () => {
    const client = world.client();
    await signUpThroughPages(client, 'hot-logs@example.test');
    lines.length = 0;
    expect((await world.verify(client, PAGE)).statusCode).toBe(200);
    expect((await world.verify(undefined, PAGE, { mode: 'forward-auth' })).statusCode).toBe(302);
    expect((await world.app.inject({ method: 'GET', url: '/sign-in' })).statusCode).toBe(200);
    const logged = lines.filter((line) => line.msg === 'incoming request').map((line) => line.req?.path);
    expect(logged).toEqual(['/sign-in']);
    expect(lines.filter((line) => line.msg === 'request completed')).toHaveLength(1);
  });

  test('/metrics counts the verdict requests by route and status, without timing them; pages are timed', async () => {
    const client = world.client();
    await signUpThroughPages(client, 'hot-metrics@example.test');
    expect((await world.verify(client, PAGE)).statusCode).toBe(200);
    expect((await world.verify(undefined, PAGE)).statusCode).toBe(401);
    const metrics = (await world.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const status of ['200', '401']) {
      expect(metrics).toMatch(
        new RegExp(
          `sparekey_http_requests_total\\{method="GET",route="/api/verify/auth-request",status="${status}"\\} [1-9]`,
        ),
      );
    }
    expect(metrics).toMatch(/sparekey_forward_auth_decisions_total\{decision="allowed"\} [1-9]/);
    expect(metrics).not.toMatch(/sparekey_http_request_duration_seconds_\w+\{[^}]*route="\/api\/verify\//);
    expect(metrics).toMatch(/sparekey_http_request_duration_seconds_count\{[^}]*route="\/sign-in"/);
  });

  test("the pages' must-set-up-2FA gate does not apply to a verdict: the verdict answers the proxy (401 with the return address)", async () => {
    await configureRecoveryCodes(world.env, { mfaRequiredRoles: ['editor'] });
    try {
      const client = world.client();
      await signUpThroughPages(client, 'hot-gate@example.test');
      const id = (await world.env.deps.store.findUserByEmail('hot-gate@example.test'))?.id as string;
      await world.env.deps.store.setUserRoles(id, ['editor']);
      // A page sends this person to set up a second factor first...
      const page = await client.get('/settings/password');
      expect(page.statusCode).toBe(303);
      expect(page.headers.location).toBe('/settings/two-factor?notice=mfa-required');
      // ...a verdict answers the proxy itself (the service's rule: set up a second factor, then back on
      // the app), with the return address, never the pages' redirect.
      const verdict = await world.verify(client, PAGE);
      expect(verdict.statusCode).toBe(401);
      expect(verdict.headers.location).toMatch(/^https:\/\/auth\.example\.com\/.*return_to=/);
    } finally {
      await configureRecoveryCodes(world.env, { mfaRequiredRoles: [] });
    }
  });

  test("the verdicts live in a context of their own: none of the pages' hooks run for them, only the request id and the request count", () => {
    const routes = world.app.printRoutes({ includeHooks: true, commonPrefix: false });
    for (const path of Object.values(FORWARD_AUTH_PATHS)) {
      expect(hooksOf(routes, `${path.slice(1)} (GET)`), path).toEqual([
        '(onSend) ["sendRequestId()"]',
        '(onResponse) ["countRequest()"]',
      ]);
    }
    // The pages, the JSON API and the rest keep every plugin and hook they had (helmet, cookies, the session).
    for (const route of ['sign-in (GET)', 'api/v1/auth/sign-in (POST)', 'metrics (GET)', 'healthz (GET)']) {
      const hooks = hooksOf(routes, route).join(' ');
      expect(hooks, route).toMatch(/helmetApplyHeaders\(\)/);
      expect(hooks, route).toMatch(/fastifyCookieHandler\(\)/);
    }
  });

  test('a verdict that fails (its session read refused by the database): 500 in the error shape, the security headers, nothing of the cause', async () => {
    const client = world.client();
    await signUpThroughPages(client, 'hot-failure@example.test');
    // Another connection to the same file takes the sessions table away, as a broken migration would.
    const other = new SqliteDatabase(world.env.location);
    other.exec('alter table sessions rename to sessions_away');
    try {
      lines.length = 0;
      const verdict = await world.verify(client, PAGE);
      expect(verdict.statusCode).toBe(500);
      expect(verdict.json()).toEqual({
        error: { code: 'internal_error', message: 'Something went wrong on our side.' },
      });
      expect(verdict.body).not.toMatch(/sessions|sqlite|no such table/i);
      expect(verdict.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(verdict.headers['x-content-type-options']).toBe('nosniff');
      expect(verdict.headers['cache-control']).toBe('no-store');
      // The cause goes to the log, at error level (the verdicts' routes log warnings and errors).
      expect(lines.some((line) => (line.level ?? 0) >= 50 && JSON.stringify(line).includes('sessions'))).toBe(
        true,
      );
    } finally {
      other.exec('alter table sessions_away rename to sessions');
      other.close();
    }
    expect((await world.verify(client, PAGE)).statusCode).toBe(200);
  });
});

/** The hook lines printRoutes lists under one route ("path (METHOD)"), in order. */
function hooksOf(printed: string, route: string): string[] {
  const lines = printed.split('\n');
  const at = lines.findIndex(
    (line) => line.trimEnd().endsWith(` ${route}`) || line.trimEnd().endsWith(`─ ${route}`),
  );
  if (at < 0) throw new Error(`no route ${route} in printRoutes`);
  const hooks: string[] = [];
  for (const line of lines.slice(at + 1)) {
    const hook = line.match(/• (\(\w+\) .*)$/);
    if (!hook) break;
    hooks.push(hook[1] as string);
  }
  return hooks;
}
