import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { signUpThroughPages } from '../helpers/web-flows.js';
import { type ForwardAuthWorld, startForwardAuthWorld } from './forward-auth-world.js';

/**
 * Issue 24 ("fast"): a verdict is asked for every request a proxy serves, so it leaves out the per-request
 * work that serves the pages: the request log lines, the pages' hooks, the request-duration histogram.
 * What stays is what an operator relies on: the verdicts' counts, warnings and errors in the log.
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
});
