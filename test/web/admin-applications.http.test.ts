import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { clientSecretMatches } from '../../src/service/oidc/clients.js';
import { alertText, createWebTestApp, type FormClient, type WebTestApp } from '../helpers/web-client.js';
import { signedInAdmin, signUpThroughPages } from '../helpers/web-flows.js';

/**
 * Issue 22, Administration → Applications over HTTP: administrators only, CSRF on every form, errors in
 * words with nothing changed, the client secret in one response only (no-store) and stored hashed, and
 * every change audited with the administrator as the actor.
 */
describe('Administration → Applications (pages)', () => {
  let web: WebTestApp;
  let admin: FormClient;
  let adminId: string;
  beforeAll(async () => {
    web = await createWebTestApp();
    web.env.deps.options.publicUrl = 'https://auth.example.test';
    ({ client: admin, id: adminId } = await signedInAdmin(web, 'apps-admin@example.test'));
  });
  afterAll(async () => web?.close());

  /** Posts the registration form as a browser does: repeated `scopes`, the page's CSRF token. */
  const register = async (client: FormClient, form: [string, string][]): Promise<LightMyRequestResponse> => {
    await client.get('/admin/applications');
    const body = new URLSearchParams([['_csrf', client.csrf()], ...form]).toString();
    const response = await web.app.inject({
      method: 'POST',
      url: '/admin/applications',
      headers: {
        cookie: [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: body,
    });
    return response;
  };
  const grafana: [string, string][] = [
    ['name', 'Grafana'],
    ['redirectUris', 'https://grafana.example.test/login/generic_oauth\r\n'],
    ['postLogoutRedirectUris', ''],
    ['kind', 'confidential'],
    ['twoFactorRequired', 'on'],
    ['scopes', 'openid'],
    ['scopes', 'email'],
    ['scopes', 'groups'],
  ];

  test('signed out, a user without the role and a pending sign-in never reach the page or its forms', async () => {
    const anonymous = web.client();
    expect((await anonymous.get('/admin/applications')).headers.location).toMatch(/^\/sign-in/);
    const user = web.client();
    await signUpThroughPages(user, 'apps-user@example.test');
    const refused = await user.get('/admin/applications');
    expect(refused.statusCode).toBe(403);
    expect(alertText(refused.body)).toBe(errorMessages.not_admin);
    const before = (await web.env.deps.store.listOidcClients()).length;
    const posted = await user.post('/admin/applications', {
      name: 'Sneaky',
      redirectUris: 'https://x.test/cb',
      _csrf: user.csrf(),
    });
    expect(posted.statusCode).toBe(403);
    expect((await web.env.deps.store.listOidcClients()).length).toBe(before);
  });

  test('register: the secret once (201, no-store), stored hashed, listed without it; the issuer shown; audited', async () => {
    const page = await admin.get('/admin/applications');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('aria-current="page">Applications</a>');
    expect(page.body).toContain('<code id="issuer">https://auth.example.test/oidc</code>');
    const created = await register(admin, grafana);
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const id = created.body.match(/id="new-client-id">(app_[\w-]+)</)?.[1] as string;
    const secret = created.body.match(/id="new-client-secret" class="secret">(sks_[\w-]+)</)?.[1] as string;
    expect(secret).toMatch(/^sks_[\w-]{43}$/);
    const stored = await web.env.deps.store.findOidcClient(id);
    expect(stored).toMatchObject({
      name: 'Grafana',
      kind: 'confidential',
      redirectUris: ['https://grafana.example.test/login/generic_oauth'],
      postLogoutRedirectUris: [],
      twoFactorRequired: true,
      firstParty: false,
      scopes: ['openid', 'email', 'groups'],
    });
    expect(clientSecretMatches(stored?.secretHash as string, secret)).toBe(true);
    const listed = await admin.get('/admin/applications');
    expect(listed.body).toContain(`<code>${id}</code>`);
    expect(listed.body).not.toContain(secret);
    expect(listed.body).not.toContain(stored?.secretHash);
    const [event] = await web.env.deps.store.listAuditEvents({ action: 'oidc_client_registered', limit: 1 });
    expect(event).toMatchObject({ actorId: adminId, details: { client_id: id, name: 'Grafana' } });
  });

  test('refusals are in words, keep what was typed, and register nothing; extra form fields change nothing else', async () => {
    const before = JSON.stringify(await web.env.deps.store.listOidcClients());
    const cases: [string, [string, string][]][] = [
      [
        'http on a public host',
        grafana.map(([k, v]) => [k, k === 'redirectUris' ? 'http://grafana.example.test/cb' : v]),
      ],
      ['no redirect URI', grafana.map(([k, v]) => [k, k === 'redirectUris' ? '  \r\n ' : v])],
      ['no openid', grafana.filter(([k, v]) => !(k === 'scopes' && v === 'openid'))],
      ['an unknown scope', [...grafana, ['scopes', 'admin']]],
      ['a blank name', grafana.map(([k, v]) => [k, k === 'name' ? '   ' : v])],
    ];
    for (const [label, form] of cases) {
      const refused = await register(admin, form);
      expect(refused.statusCode, label).toBe(400);
      expect(alertText(refused.body), label).toBe(errorMessages.invalid_oidc_client);
      expect(refused.body, label).toContain('name="redirectUris" rows="2" required>');
      expect(refused.body, label).not.toContain('id="new-client-secret"');
    }
    expect(JSON.stringify(await web.env.deps.store.listOidcClients())).toBe(before);
    // Without the CSRF token of the page: refused, nothing registered.
    const forged = await web.app.inject({
      method: 'POST',
      url: '/admin/applications',
      headers: {
        cookie: [...admin.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: new URLSearchParams(grafana).toString(),
    });
    expect(forged.statusCode).toBe(403);
    expect(JSON.stringify(await web.env.deps.store.listOidcClients())).toBe(before);
    // An accepted form with identity and privileged fields added: they are not read.
    const extra = await register(admin, [
      ...grafana,
      ['id', 'app_chosen'],
      ['clientId', 'app_chosen'],
      ['secretHash', 'a'.repeat(64)],
      ['actorId', 'someone'],
      ['disabledAt', '1'],
    ]);
    expect(extra.statusCode).toBe(201);
    const id = extra.body.match(/id="new-client-id">(app_[\w-]+)</)?.[1] as string;
    expect(id).not.toBe('app_chosen');
    const stored = await web.env.deps.store.findOidcClient(id);
    expect(stored?.disabledAt).toBeNull();
    expect(stored?.secretHash).not.toBe('a'.repeat(64));
    const [event] = await web.env.deps.store.listAuditEvents({ action: 'oidc_client_registered', limit: 1 });
    expect(event?.actorId).toBe(adminId);
  });

  test('a public application: no secret, nothing to rotate; rotate, disable, enable and delete a confidential one', async () => {
    const pub = await register(admin, [
      ['name', 'Dashboard SPA'],
      ['redirectUris', 'http://127.0.0.1:5173/callback'],
      ['kind', 'public'],
      ['scopes', 'openid'],
    ]);
    expect(pub.statusCode).toBe(201);
    expect(pub.body).not.toContain('id="new-client-secret"');
    expect(pub.body).toContain('registered as a public application');
    const pubId = pub.body.match(/id="new-client-id">(app_[\w-]+)</)?.[1] as string;
    expect((await admin.get('/admin/applications')).body).not.toContain(
      `/admin/applications/${pubId}/rotate-secret`,
    );
    const noSecret = await admin.post(`/admin/applications/${pubId}/rotate-secret`, {});
    expect(noSecret.statusCode).toBe(409);
    expect(alertText(noSecret.body)).toBe(errorMessages.oidc_client_public);

    const created = await register(admin, grafana);
    const id = created.body.match(/id="new-client-id">(app_[\w-]+)</)?.[1] as string;
    const first = created.body.match(/id="new-client-secret" class="secret">(sks_[\w-]+)</)?.[1] as string;
    await admin.get('/admin/applications');
    const rotated = await admin.post(`/admin/applications/${id}/rotate-secret`, {});
    expect(rotated.statusCode).toBe(200);
    expect(rotated.headers['cache-control']).toBe('no-store');
    expect(rotated.body).toContain('the old one no longer works');
    const second = rotated.body.match(/id="new-client-secret" class="secret">(sks_[\w-]+)</)?.[1] as string;
    const hash = (await web.env.deps.store.findOidcClient(id))?.secretHash as string;
    expect(clientSecretMatches(hash, second)).toBe(true);
    expect(clientSecretMatches(hash, first)).toBe(false);

    const disabled = await admin.post(`/admin/applications/${id}/disable`, {});
    expect(disabled.headers.location).toBe('/admin/applications?notice=application-disabled');
    expect((await web.env.deps.store.findOidcClient(id))?.disabledAt).not.toBeNull();
    const shown = await admin.follow(disabled);
    expect(shown.body).toContain('The application was disabled');
    expect(shown.body).toContain(`Enable Grafana`);
    await admin.post(`/admin/applications/${id}/enable`, {});
    expect((await web.env.deps.store.findOidcClient(id))?.disabledAt).toBeNull();
    await admin.get('/admin/applications');
    const deleted = await admin.post(`/admin/applications/${id}/delete`, {});
    expect(deleted.headers.location).toBe('/admin/applications?notice=application-deleted');
    expect(await web.env.deps.store.findOidcClient(id)).toBeUndefined();
    await admin.get('/admin/applications');
    const gone = await admin.post(`/admin/applications/${id}/delete`, {});
    expect(gone.statusCode).toBe(404);
    expect(alertText(gone.body)).toBe(errorMessages.oidc_client_not_found);

    const actions = (await web.env.deps.store.listAuditEvents({ limit: 100 }))
      .filter((event) => event.details.client_id === id)
      .map((event) => [event.action, event.actorId]);
    expect(actions.sort()).toEqual(
      [
        ['oidc_client_registered', adminId],
        ['oidc_client_secret_rotated', adminId],
        ['oidc_client_disabled', adminId],
        ['oidc_client_enabled', adminId],
        ['oidc_client_deleted', adminId],
      ].sort(),
    );
  });

  test('the statistics page lists sign-ins per application', async () => {
    const created = await register(admin, [
      ...grafana.filter(([k]) => k !== 'name'),
      ['name', 'Counted app'],
    ]);
    const id = created.body.match(/id="new-client-id">(app_[\w-]+)</)?.[1] as string;
    // Two users' sign-ins, counted in their own counter shards: the page shows the sum.
    await web.env.deps.store.countOidcSignIn(id, 'user-a', web.env.clock.now());
    await web.env.deps.store.countOidcSignIn(id, 'user-b', web.env.clock.now());
    const dashboard = await admin.get('/admin');
    expect(dashboard.body).toContain('<h2>Sign-ins per application</h2>');
    expect(dashboard.body).toMatch(
      new RegExp(`<tr data-client-id="${id}"><td>Counted app</td><td>2</td><td>2</td></tr>`),
    );
  });
});
