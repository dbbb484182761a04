import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { createApiKey } from '../../src/service/admin/api-keys.js';
import { DocumentedAnswers } from '../helpers/openapi-conformance.js';
import { createTestUser } from '../helpers/service-deps.js';
import { createWebTestApp, type WebTestApp } from '../helpers/web-client.js';

/**
 * `DELETE /api/v1/users/{userId}` keeps the last administrator: 409 `last_administrator` in the documented
 * error shape, declared by the operation; the account stays. With a second administrator it goes.
 */
describe('JSON API: the last administrator', () => {
  let web: WebTestApp;
  let key: string;
  let documented: DocumentedAnswers;
  beforeAll(async () => {
    web = await createWebTestApp();
    const admin = await createApiKey(web.env.deps, { name: 'tests', scopes: ['admin'], context: {} });
    if (!admin.ok) throw new Error('key');
    key = admin.value.key;
    documented = new DocumentedAnswers((await web.app.inject({ url: '/openapi.json' })).json());
  });
  afterAll(async () => web?.close());

  const remove = async (userId: string) => {
    const response = await web.app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${userId}`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(documented.problemWith('DELETE', `/api/v1/users/${userId}`, response)).toBeUndefined();
    return { status: response.statusCode, json: response.json() };
  };

  test('409 last_administrator for the only administrator; a second one may be deleted', async () => {
    // The test database starts with whatever administrators its template holds: make this one the only one.
    const users = await web.env.deps.store.listUsers({ limit: 1000 });
    const only = await createTestUser(web.env, { roles: ['administrator'] });
    for (const user of users.filter((u) => u.roles.includes('administrator')))
      expect(await web.env.deps.store.setUserRoles(user.id, ['editor'])).toEqual({ updated: true });

    expect(await remove(only.id)).toEqual({
      status: 409,
      json: { error: { code: 'last_administrator', message: errorMessages.last_administrator } },
    });
    expect(await web.env.deps.store.findUserById(only.id)).toBeDefined();

    const second = await createTestUser(web.env, { roles: ['administrator'] });
    expect((await remove(second.id)).status).toBe(200);
    expect(await web.env.deps.store.findUserById(second.id)).toBeUndefined();
  });
});
