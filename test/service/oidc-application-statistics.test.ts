import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { getRecoveryCodeStatistics } from '../../src/service/admin/statistics.js';
import { oidcAdapterFor } from '../../src/service/oidc/adapter.js';
import { deleteOidcClient, registerOidcClient } from '../../src/service/oidc/clients.js';
import { testEngines } from '../helpers/engines.js';
import { createTestEnvironment, createTestUser, type TestEnvironment } from '../helpers/service-deps.js';

/**
 * Issue 22: every sign-in through an application is audited with its client id and amr, and the
 * statistics show sign-ins per application (today and the last 30 days, in the operator's time zone).
 * A sign-in is the authorization code oidc-provider saves through the store adapter.
 */
describe.each(testEngines())('sign-ins per application on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine, { timeZone: 'America/New_York' });
  });
  afterEach(async () => env.close());

  const register = async (name: string) => {
    const registered = await registerOidcClient(env.deps, {
      name,
      redirectUris: [`https://${name.toLowerCase()}.example.test/callback`],
      postLogoutRedirectUris: [],
      kind: 'confidential',
      firstParty: true,
      twoFactorRequired: false,
      scopes: ['openid', 'email'],
      context: {},
    });
    if (!registered.ok) throw new Error(registered.error);
    return registered.value.client.id;
  };

  test('each issued code is one audited sign-in, counted for its application by local day, busiest first', async () => {
    const user = await createTestUser(env);
    const [grafana, gitea, unused] = [
      await register('Grafana'),
      await register('Gitea'),
      await register('Idle'),
    ];
    const Adapter = oidcAdapterFor(env.deps, (message) => new Error(message));
    const codes = new Adapter('AuthorizationCode');
    const signIn = (clientId: string, amr: string[]) =>
      codes.upsert(
        env.deps.random.uuid(),
        { accountId: user.id, clientId, amr, acr: 'urn:sparekey:acr:2fa' },
        60,
      );

    // 2026-11-20 03:00 UTC is the 19th in New York: inside the last 30 days, not today.
    env.clock.nowMs = Date.UTC(2026, 10, 20, 3, 0);
    await signIn(grafana, ['pwd', 'otp', 'mfa']);
    // 40 days before "now": outside the window.
    env.clock.nowMs = Date.UTC(2026, 9, 13, 12, 0);
    await signIn(grafana, ['pwd', 'otp', 'mfa']);
    // "Today" in New York (2026-11-22 07:00 local), two at once and one through Gitea.
    env.clock.nowMs = Date.UTC(2026, 10, 22, 12, 0);
    await Promise.all([signIn(grafana, ['pwd', 'hwk', 'mfa']), signIn(grafana, ['pwd'])]);
    await signIn(gitea, ['pwd', 'mfa', 'recovery_code']);

    const events = await env.deps.store.listAuditEvents({ action: 'oidc_sign_in', limit: 10 });
    expect(events).toHaveLength(5);
    expect(events.find((event) => event.details.client_id === gitea)).toMatchObject({
      userId: user.id,
      details: { client_id: gitea, amr: 'pwd mfa recovery_code', acr: 'urn:sparekey:acr:2fa' },
    });

    const stats = await getRecoveryCodeStatistics(env.deps);
    expect(stats.signInsByApplication).toEqual([
      { clientId: grafana, name: 'Grafana', disabled: false, today: 2, last30Days: 3 },
      { clientId: gitea, name: 'Gitea', disabled: false, today: 1, last30Days: 1 },
      { clientId: unused, name: 'Idle', disabled: false, today: 0, last30Days: 0 },
    ]);

    // A deleted application leaves the statistics; its audit events stay in the log.
    await deleteOidcClient(env.deps, { id: grafana, context: {} });
    const after = await getRecoveryCodeStatistics(env.deps);
    expect(after.signInsByApplication.map((row) => row.clientId)).toEqual([gitea, unused]);
    expect(await env.deps.store.listAuditEvents({ action: 'oidc_sign_in', limit: 10 })).toHaveLength(5);
  });
});
