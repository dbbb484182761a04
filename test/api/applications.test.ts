import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { createApiKey } from '../../src/service/admin/api-keys.js';
import { clientSecretMatches } from '../../src/service/oidc/clients.js';
import { createWebTestApp, type WebTestApp } from '../helpers/web-client.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON responses are read field by field in assertions
type Json = Record<string, any>;

/**
 * Issue 22, operating the provider over the JSON API (scope `admin`): what is accepted, what is refused
 * (unknown and wrong fields, bad redirect URIs) with nothing changed, the secret shown once and stored
 * hashed, and every change audited with the key as the actor.
 */
describe('JSON API: applications (OpenID Connect clients)', () => {
  let web: WebTestApp;
  let adminKey: string;
  let adminKeyId: string;
  beforeAll(async () => {
    web = await createWebTestApp();
    const admin = await createApiKey(web.env.deps, { name: 'apps', scopes: ['admin'], context: {} });
    if (!admin.ok) throw new Error(admin.error);
    adminKey = admin.value.key;
    adminKeyId = admin.value.id;
  });
  afterAll(async () => web?.close());

  const call = async (method: string, url: string, body?: unknown) => {
    const response = await web.app.inject({
      method: method as 'POST',
      url,
      headers: { authorization: `Bearer ${adminKey}` },
      ...(body === undefined ? {} : { payload: body as Json }),
    });
    return {
      status: response.statusCode,
      json: response.body ? (JSON.parse(response.body) as Json) : undefined,
      headers: response.headers,
      body: response.body,
    };
  };
  const valid = {
    name: 'Gitea',
    redirectUris: ['https://git.example.test/user/oauth2/sparekey/callback'],
    postLogoutRedirectUris: ['https://git.example.test/'],
    kind: 'confidential',
    firstParty: true,
    twoFactorRequired: true,
    scopes: ['openid', 'email', 'profile'],
  };
  const stored = async () => web.env.deps.store.listOidcClients();

  test('a registration with any extra field is refused (400, error shape) and registers nothing; the same body without it is accepted', async () => {
    const before = (await stored()).length;
    for (const extra of [
      { clientId: 'app_chosen_by_caller' },
      { secretHash: 'a'.repeat(64) },
      { clientSecret: 'sks_mine' },
      { actorId: 'someone-else' },
      { disabledAt: null },
      { unknown: 1 },
    ]) {
      const refused = await call('POST', '/api/v1/applications', { ...valid, ...extra });
      expect(refused.status, JSON.stringify(extra)).toBe(400);
      expect(refused.json?.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
      expect(refused.body).not.toMatch(/at \w+ \(|node_modules/);
    }
    expect((await stored()).length).toBe(before);
    const accepted = await call('POST', '/api/v1/applications', valid);
    expect(accepted.status).toBe(201);
    expect((await stored()).length).toBe(before + 1);
  });

  test('wrong fields are a 400 in words, never a 5xx, and change nothing', async () => {
    const before = JSON.stringify(await stored());
    const wrong: [string, Json][] = [
      ['kind', { kind: 'trusted' }],
      ['name empty', { name: '' }],
      ['name too long', { name: 'x'.repeat(101) }],
      ['no redirect', { redirectUris: [] }],
      ['eleven redirects', { redirectUris: Array.from({ length: 11 }, (_, i) => `https://a.test/${i}`) }],
      ['redirect too long', { redirectUris: [`https://a.test/${'x'.repeat(2001)}`] }],
      ['redirect not a string', { redirectUris: [42] }],
      ['unknown scope', { scopes: ['openid', 'admin'] }],
      ['boolean as string', { firstParty: 'true' }],
      ['nested object', { name: { first: 'a' } }],
    ];
    for (const [label, change] of wrong) {
      const refused = await call('POST', '/api/v1/applications', { ...valid, ...change });
      expect(refused.status, label).toBe(400);
      expect(typeof refused.json?.error?.message, label).toBe('string');
    }
    // Accepted by the schema, refused by the rule: the catalog's words, in the error shape.
    const rules: [string, Json][] = [
      ['http on a public host', { redirectUris: ['http://git.example.test/callback'] }],
      ['a fragment', { redirectUris: ['https://git.example.test/callback#x'] }],
      ['not absolute', { redirectUris: ['/callback'] }],
      ['credentials in the URI', { redirectUris: ['https://user:pw@git.example.test/cb'] }],
      ['without openid', { scopes: ['email'] }],
      ['blank name', { name: '   ' }],
    ];
    for (const [label, change] of rules) {
      const refused = await call('POST', '/api/v1/applications', { ...valid, ...change });
      expect(refused.status, label).toBe(400);
      expect(refused.json?.error, label).toEqual({
        code: 'invalid_oidc_client',
        message: errorMessages.invalid_oidc_client,
      });
    }
    expect(JSON.stringify(await stored())).toBe(before);
  });

  test('the secret is in the registration and rotation answers only (no-store), stored as a hash; rotating ends the old one', async () => {
    const registered = await call('POST', '/api/v1/applications', valid);
    expect(registered.headers['cache-control']).toBe('no-store');
    const id = registered.json?.application.clientId as string;
    const first = registered.json?.clientSecret as string;
    expect(first).toMatch(/^sks_[A-Za-z0-9_-]{43}$/);
    const record = await web.env.deps.store.findOidcClient(id);
    expect(record?.secretHash).not.toContain(first);
    expect(clientSecretMatches(record?.secretHash as string, first)).toBe(true);
    for (const read of [
      await call('GET', '/api/v1/applications'),
      await call('GET', `/api/v1/applications/${id}`),
    ]) {
      expect(read.body).not.toContain(first);
      expect(read.body).not.toContain(record?.secretHash);
      expect(read.body).not.toMatch(/secret/i);
    }
    const rotated = await call('POST', `/api/v1/applications/${id}/secret`);
    expect(rotated.headers['cache-control']).toBe('no-store');
    const second = rotated.json?.clientSecret as string;
    const after = await web.env.deps.store.findOidcClient(id);
    expect(clientSecretMatches(after?.secretHash as string, second)).toBe(true);
    expect(clientSecretMatches(after?.secretHash as string, first)).toBe(false);

    // A public application has no secret: none at registration, and none to rotate.
    const pub = await call('POST', '/api/v1/applications', { ...valid, kind: 'public' });
    expect(pub.json?.clientSecret).toBeNull();
    const noSecret = await call('POST', `/api/v1/applications/${pub.json?.application.clientId}/secret`);
    expect(noSecret.status).toBe(409);
    expect(noSecret.json?.error.code).toBe('oidc_client_public');
  });

  test('a change accepted with every field, refused with an extra one (nothing changed); unknown ids are 404', async () => {
    const id = (await call('POST', '/api/v1/applications', valid)).json?.application.clientId as string;
    const { kind: _kind, ...settings } = valid;
    const before = await web.env.deps.store.findOidcClient(id);
    for (const extra of [{ kind: 'public' }, { clientId: 'app_other' }, { secretHash: 'b'.repeat(64) }]) {
      expect((await call('PUT', `/api/v1/applications/${id}`, { ...settings, ...extra })).status).toBe(400);
    }
    expect(await web.env.deps.store.findOidcClient(id)).toEqual(before);
    const changed = await call('PUT', `/api/v1/applications/${id}`, {
      ...settings,
      name: 'Gitea (staff)',
      firstParty: false,
      scopes: ['openid', 'offline_access'],
    });
    expect(changed.status).toBe(200);
    expect(changed.json).toMatchObject({
      clientId: id,
      kind: 'confidential',
      name: 'Gitea (staff)',
      firstParty: false,
      scopes: ['openid', 'offline_access'],
    });
    for (const [method, url] of [
      ['GET', '/api/v1/applications/app_missing'],
      ['POST', '/api/v1/applications/app_missing/secret'],
      ['POST', '/api/v1/applications/app_missing/disable'],
      ['POST', '/api/v1/applications/app_missing/enable'],
      ['DELETE', '/api/v1/applications/app_missing'],
    ] as const) {
      const missing = await call(method, url);
      expect(missing.status, url).toBe(404);
      expect(missing.json?.error.code, url).toBe('oidc_client_not_found');
    }
    expect((await call('PUT', '/api/v1/applications/app_missing', settings)).status).toBe(404);
    expect((await call('GET', `/api/v1/applications/${'x'.repeat(65)}`)).status).toBe(400);
  });

  test('every change is audited with the application and the key as the actor', async () => {
    const id = (await call('POST', '/api/v1/applications', valid)).json?.application.clientId as string;
    await call('PUT', `/api/v1/applications/${id}`, { ...valid, kind: undefined, name: 'Renamed' });
    await call('POST', `/api/v1/applications/${id}/secret`);
    await call('POST', `/api/v1/applications/${id}/disable`);
    await call('POST', `/api/v1/applications/${id}/enable`);
    await call('DELETE', `/api/v1/applications/${id}`);
    const events = (await web.env.deps.store.listAuditEvents({ limit: 200 })).filter(
      (event) => event.details.client_id === id,
    );
    expect(events.map((event) => event.action).sort()).toEqual(
      [
        'oidc_client_registered',
        'oidc_client_changed',
        'oidc_client_secret_rotated',
        'oidc_client_disabled',
        'oidc_client_enabled',
        'oidc_client_deleted',
      ].sort(),
    );
    for (const event of events) expect(event.actorId).toBe(`apikey:${adminKeyId}`);
    // No secret or hash in the log.
    expect(JSON.stringify(events)).not.toMatch(/sks_|secret_hash/);
  });
});
