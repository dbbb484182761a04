import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createUser } from '../../src/service/accounts/accounts.js';
import { startSession } from '../../src/service/sessions/sessions.js';
import { SESSION_COOKIE } from '../../src/web/web-context.js';
import { testEngines } from '../helpers/engines.js';
import { authenticatorCode, configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { stateSnapshot } from '../helpers/state-snapshot.js';
import { createWebTestApp, FormClient, type WebTestApp } from '../helpers/web-client.js';

/**
 * Issue 20, drifts 2 and 3: the step-up-protected changes behave the same on the pages and in the JSON API,
 * because both run one flow (src/service/sign-in/step-up-actions.ts).
 * - Drift 2: regenerating codes, removing a factor and turning 2FA off rotate the session (OWASP Session CS):
 *   the token the request came with is dead, the new one (the page's cookie, the JSON answer's `token`) works.
 * - Drift 3: removing a factor that is not the user's (unknown, or another user's) is a 404 before the
 *   step-up is checked: the authenticator code sent with it is not spent and nothing is charged or audited.
 */
type Edge = 'page' | 'api';
type ActionName = 'regenerate codes' | 'remove a factor' | 'turn two-factor off';

const PAGE_PATHS: Record<ActionName, (factorId: string) => string> = {
  'regenerate codes': () => '/settings/two-factor/recovery-codes/regenerate',
  'remove a factor': (id) => `/settings/two-factor/factors/${id}/remove`,
  'turn two-factor off': () => '/settings/two-factor/disable',
};
const API_PATHS: Record<ActionName, (factorId: string) => string> = {
  'regenerate codes': () => '/api/v1/me/recovery-codes',
  'remove a factor': (id) => `/api/v1/me/factors/${id}/remove`,
  'turn two-factor off': () => '/api/v1/me/mfa/disable',
};
const EDGES: readonly Edge[] = ['page', 'api'];
const ACTIONS = Object.keys(PAGE_PATHS) as ActionName[];

describe.each(testEngines())('step-up-protected changes through both edges on %s', (engine) => {
  let web: WebTestApp;
  beforeAll(async () => {
    web = await createWebTestApp(engine);
    await configureRecoveryCodes(web.env);
  });
  afterAll(async () => web?.close());

  /** A signed-in user with an authenticator app and emailed codes (so one factor can be removed). */
  async function signedInUser(label: string) {
    const email = `${label}-${web.env.deps.random.uuid().slice(0, 8)}@example.test`;
    const password = `${label}-own-pass-phrase-${engine}`;
    const created = await createUser(web.env.deps, { email, password, context: {} });
    if (!created.ok) throw new Error(created.error);
    const userId = created.value.userId;
    const totp = await enableTotp(web.env, userId);
    const emailFactorId = web.env.deps.random.uuid();
    const at = web.env.clock.now();
    await web.env.deps.store.createFactor({
      id: emailFactorId,
      userId,
      kind: 'email',
      secretCiphertext: null,
      createdAt: at,
    });
    await web.env.deps.store.confirmFactor(userId, emailFactorId, at);
    const { token } = await startSession(web.env.deps, { userId, stage: 'signed_in', context: {} });
    return { userId, password, token, secret: totp.secret, emailFactorId };
  }

  // Each call comes from an address of its own, so the per-address throttle of one test never blocks another.
  let addresses = 0;
  const nextAddress = () => `10.20.${Math.floor(++addresses / 250)}.${(addresses % 250) + 1}`;

  /** Sends the action with step-up fields; returns the status, the error code and the token to use next. */
  async function act(edge: Edge, url: string, token: string, fields: Record<string, string>) {
    const remoteAddress = nextAddress();
    if (edge === 'api') {
      const response = await web.app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${token}` },
        payload: fields,
        remoteAddress,
      });
      const body = response.body ? response.json() : {};
      return { status: response.statusCode, code: body.error?.code as string | undefined, token: body.token };
    }
    const client = new FormClient(web.app, remoteAddress);
    client.cookies.set(SESSION_COOKIE, token);
    // The form is fetched first, for its CSRF token, as a browser would.
    await client.get(url);
    const response = await client.post(url, fields);
    return { status: response.statusCode, code: undefined, token: client.cookies.get(SESSION_COOKIE) };
  }

  /** Whether a session token still opens the user's own account on that edge. */
  async function tokenWorks(edge: Edge, token: string) {
    if (edge === 'api') {
      const response = await web.app.inject({
        method: 'GET',
        url: '/api/v1/me/mfa',
        headers: { authorization: `Bearer ${token}` },
      });
      return response.statusCode === 200;
    }
    const client = new FormClient(web.app);
    client.cookies.set(SESSION_COOKIE, token);
    return (await client.get('/settings/two-factor')).statusCode === 200;
  }

  const CASES = EDGES.flatMap((edge) => ACTIONS.map((action) => ({ edge, action })));

  test.each(CASES)(
    'drift 2, $edge: $action gives the session a new token; the old one is dead',
    async ({ edge, action }) => {
      const user = await signedInUser('rotates');
      const paths = edge === 'api' ? API_PATHS : PAGE_PATHS;
      const answer = await act(edge, paths[action](user.emailFactorId), user.token, {
        password: user.password,
      });

      expect(answer.status, JSON.stringify(answer)).toBeLessThan(400);
      expect(answer.token).toEqual(expect.any(String));
      expect(answer.token).not.toBe(user.token);
      expect(await tokenWorks(edge, user.token)).toBe(false);
      expect(await tokenWorks(edge, answer.token as string)).toBe(true);
      // The change itself happened.
      const factors = await web.env.deps.store.listFactors(user.userId);
      if (action === 'remove a factor') expect(factors.map((f) => f.id)).not.toContain(user.emailFactorId);
      if (action === 'turn two-factor off') expect(factors).toHaveLength(0);
      if (action === 'regenerate codes') {
        const events = await web.env.deps.store.listAuditEvents({ userId: user.userId, limit: 50 });
        expect(events.map((event) => event.action)).toContain('recovery_codes_regenerated');
      }
    },
  );

  const MISSING = EDGES.flatMap((edge) =>
    (['unknown', 'another user’s'] as const).map((whose) => ({ edge, whose })),
  );

  test.each(MISSING)(
    'drift 3, $edge: removing an $whose factor is a 404 that spends no step-up',
    async ({ edge, whose }) => {
      const user = await signedInUser('removes');
      const other = await signedInUser('other');
      const factorId = whose === 'unknown' ? web.env.deps.random.uuid() : other.emailFactorId;
      web.env.clock.advance(30_000);
      const code = authenticatorCode(user.secret, web.env.clock.nowMs);
      const paths = edge === 'api' ? API_PATHS : PAGE_PATHS;
      const before = await stateSnapshot(web.env);
      const eventsBefore = await web.env.deps.store.listAuditEvents({ userId: user.userId, limit: 100 });

      const answer = await act(edge, paths['remove a factor'](factorId), user.token, { totpCode: code });

      expect(answer.status).toBe(404);
      if (edge === 'api') expect(answer.code).toBe('factor_not_found');
      // Nothing changed, no step-up was checked (no step_up / step_up_failed event), the session is the same.
      expect(await stateSnapshot(web.env)).toBe(before);
      const eventsAfter = await web.env.deps.store.listAuditEvents({ userId: user.userId, limit: 100 });
      expect(eventsAfter.length).toBe(eventsBefore.length);
      expect(await tokenWorks(edge, user.token)).toBe(true);
      // The authenticator code was not spent: the same code in the same time step passes a real step-up.
      const again = await act(edge, paths['remove a factor'](user.emailFactorId), user.token, {
        totpCode: code,
      });
      expect(again.status, JSON.stringify(again)).toBeLessThan(400);
      expect((await web.env.deps.store.listFactors(user.userId)).map((f) => f.id)).not.toContain(
        user.emailFactorId,
      );
    },
  );
});
