import { describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { resolveSession } from '../../src/service/sessions/sessions.js';
import { SESSION_COOKIE } from '../../src/web/web-context.js';
import { authenticatorCode } from '../helpers/mfa.js';
import { stateSnapshot } from '../helpers/state-snapshot.js';
import { alertText, FormClient } from '../helpers/web-client.js';
import { enableTotpThroughPages, passwordStep, signUpThroughPages } from '../helpers/web-flows.js';
import {
  bodyFor,
  concreteUrl,
  createWorld,
  credentials,
  csrfFor,
  fillBody,
  type Principal,
  useAppWithRoutes,
} from './authorization-world.js';

/** Issue 6.5: CSRF on every state-changing form, session fixation, and step-up on every sensitive action. */
describe('CSRF, session fixation and step-up', () => {
  const setup = useAppWithRoutes();
  const { routes } = setup;

  // The OpenID Connect provider's own endpoints (/oidc, /oidc/*) are protocol endpoints for applications,
  // protected by client authentication, PKCE and state, not forms; its consent page is a form and is kept.
  const providerEndpoint = (url: string) => url === '/oidc' || url === '/oidc/*';
  const forms = () =>
    routes.filter(
      (route) => route.method === 'POST' && !route.url.startsWith('/api/') && !providerEndpoint(route.url),
    );

  test('every form without a CSRF token, or with another session’s, is 403 and changes nothing (ASVS 4.0.3 4.2.2)', async () => {
    const world = await createWorld(setup.env);
    expect(forms().length).toBeGreaterThanOrEqual(25);
    const refused: string[] = [];
    for (const { url: template } of forms()) {
      for (const principal of ['anonymous', 'user', 'admin'] as Principal[]) {
        const headers = credentials(principal, world);
        const url = concreteUrl(template, world);
        const body = fillBody(bodyFor('POST', template) ?? {}, world);
        // Another session's token with this browser's own CSRF cookie: bound to the wrong session.
        const own = await csrfFor(setup.app, headers);
        const foreign = await csrfFor(setup.app, credentials(principal === 'user' ? 'other' : 'user', world));
        const cookie = [headers.cookie, own.cookie].filter(Boolean).join('; ');
        const before = await stateSnapshot(setup.env);
        for (const token of [undefined, '', 'forged-token', foreign.token]) {
          const fields = token === undefined ? body : { ...body, _csrf: token };
          const response = await setup.app.inject({
            method: 'POST',
            url,
            headers: { ...headers, cookie, 'content-type': 'application/x-www-form-urlencoded' },
            payload: new URLSearchParams(fields).toString(),
          });
          if (response.statusCode !== 403 || alertText(response.body) !== errorMessages.csrf_invalid) {
            refused.push(`${template} as ${principal} with ${String(token)}: ${response.statusCode}`);
          }
        }
        expect(await stateSnapshot(setup.env), `${template} as ${principal}`).toBe(before);
      }
    }
    expect(refused).toEqual([]);
  }, 60_000);

  test('session fixation: a token planted before sign-in never becomes the session; each step issues a new one', async () => {
    const client = new FormClient(setup.app);
    await signUpThroughPages(client, 'fixation@example.test');
    const { secret } = await enableTotpThroughPages(client, setup.env);
    await client.post('/sign-out', {});

    // A token the attacker chose and planted in the victim's browser before sign-in (OWASP session fixation).
    const planted = 'AttackerChosenSessionToken0123456789abcdefghij';
    client.cookies.set(SESSION_COOKIE, planted);
    const step1 = await passwordStep(client, 'fixation@example.test');
    expect(step1.headers.location, `${step1.statusCode} ${step1.body.slice(0, 400)}`).toBe(
      '/sign-in/two-factor',
    );
    const pending = client.cookies.get(SESSION_COOKIE) as string;
    expect(pending).not.toBe(planted);
    expect(await resolveSession(setup.env.deps, planted)).toBeUndefined();

    setup.env.clock.advance(30_000);
    await client.get('/sign-in/two-factor');
    const step2 = await client.post('/sign-in/two-factor/totp', {
      code: authenticatorCode(secret, setup.env.clock.nowMs),
    });
    expect(step2.statusCode).toBe(303);
    const signedIn = client.cookies.get(SESSION_COOKIE) as string;
    expect(signedIn).not.toBe(pending);
    expect(await resolveSession(setup.env.deps, pending)).toBeUndefined();
    expect((await resolveSession(setup.env.deps, signedIn))?.user.email).toBe('fixation@example.test');
  });

  test('step-up: every sensitive action refuses a missing or wrong password and changes nothing (ASVS 4.0.3 2.x re-auth)', async () => {
    const sensitive = [
      { method: 'POST', url: '/api/v1/me/recovery-codes' },
      { method: 'POST', url: '/api/v1/me/factors/:factorId/remove' },
      { method: 'POST', url: '/api/v1/me/mfa/disable' },
      { method: 'POST', url: '/settings/two-factor/recovery-codes/regenerate' },
      { method: 'POST', url: '/settings/two-factor/factors/:factorId/remove' },
      { method: 'POST', url: '/settings/two-factor/disable' },
    ];
    for (const route of sensitive) expect(routes).toContainEqual(route);
    for (const { url: template } of sensitive) {
      // A fresh account per action: the wrong passwords below are charged to the account (throttling).
      const world = await createWorld(setup.env);
      const headers = credentials('user', world);
      const csrf = await csrfFor(setup.app, headers);
      for (const password of [undefined, '', 'not-the-password']) {
        const before = await stateSnapshot(setup.env);
        const fields: Record<string, string> = password === undefined ? {} : { password };
        const api = template.startsWith('/api/');
        const response = await setup.app.inject({
          method: 'POST',
          url: concreteUrl(template, world),
          headers: api
            ? headers
            : {
                ...headers,
                cookie: `${headers.cookie}; ${csrf.cookie}`,
                'content-type': 'application/x-www-form-urlencoded',
              },
          payload: api ? fields : new URLSearchParams({ ...fields, _csrf: csrf.token }).toString(),
        });
        expect([400, 401], `${template} with ${String(password)}`).toContain(response.statusCode);
        // The refusal rotates nothing a person could lose: only the attempt is recorded.
        expect(await stateSnapshot(setup.env), template).toBe(before);
      }
    }
  });
});
