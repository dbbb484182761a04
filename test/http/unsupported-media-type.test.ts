import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { createSpareKey } from '../../src/index.js';
import { stateSnapshot } from '../helpers/state-snapshot.js';
import { alertText, FormClient } from '../helpers/web-client.js';
import { signUpThroughPages } from '../helpers/web-flows.js';
import {
  bodyFor,
  concreteUrl,
  createWorld,
  credentials,
  fillBody,
  useAppWithRoutes,
} from '../security/authorization-world.js';
import { callerFor } from '../security/fuzz-inputs.js';

/**
 * The JSON API takes JSON bodies only. A body in another media type (text/plain, a form, XML) used to be
 * read as text and answered 400 invalid_request ("body must be object"); it is a 415
 * unsupported_media_type in the error shape, as the OpenAPI document declares for every operation with a
 * body (ASVS 4.0.3 13.1.5: requests with unexpected content types are rejected). A JSON body is held to
 * its schema as before, and the pages still take their submitted forms.
 */
const refused = {
  error: { code: 'unsupported_media_type', message: errorMessages.unsupported_media_type },
};
const NON_JSON = [
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'application/xml',
];

describe('the JSON API refuses bodies that are not JSON with 415', () => {
  const setup = useAppWithRoutes();

  test('every API operation that takes a body answers 415 unsupported_media_type to each, and nothing changes', async () => {
    const world = await createWorld(setup.env);
    const operations = setup.routes.filter(
      (route) => route.url.startsWith('/api/') && ['POST', 'PUT', 'PATCH'].includes(route.method),
    );
    expect(operations.length).toBeGreaterThan(30);
    const before = await stateSnapshot(setup.env);
    const problems: string[] = [];
    for (const { method, url: template } of operations) {
      const body = JSON.stringify(fillBody(bodyFor(method, template) ?? {}, world));
      for (const contentType of NON_JSON) {
        const response = await setup.app.inject({
          method: method as 'POST',
          url: concreteUrl(template, world),
          headers: { ...credentials(callerFor(template), world), 'content-type': contentType },
          payload: contentType.includes('form') ? 'code=123456' : body,
        });
        if (response.statusCode !== 415 || response.body !== JSON.stringify(refused))
          problems.push(
            `${method} ${template} ${contentType}: ${response.statusCode} ${response.body.slice(0, 120)}`,
          );
      }
    }
    expect(problems).toEqual([]);
    expect(await stateSnapshot(setup.env)).toBe(before);
  });

  test('beside it, JSON is unchanged: an unknown field is 400 invalid_request, a valid body (any charset) is taken', async () => {
    const world = await createWorld(setup.env);
    const headers = credentials('key:admin', world);
    const create = (contentType: string, body: unknown) =>
      setup.app.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: { ...headers, 'content-type': contentType },
        payload: JSON.stringify(body),
      });
    const extra = await create('application/json', { name: 'ci', scopes: ['audit:read'], admin: true });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().error.code).toBe('invalid_request');
    expect(extra.json().error.message).toContain('must NOT have additional properties');
    expect((await create('application/json', { name: 'ci', scopes: ['audit:read'] })).statusCode).toBe(201);
    expect(
      (await create('application/json; charset=utf-8', { name: 'ci-2', scopes: ['audit:read'] })).statusCode,
    ).toBe(201);
    // The same body as text: refused whole, no key created.
    const keys = (await setup.env.deps.store.listApiKeys()).length;
    expect((await create('text/plain', { name: 'ci-3', scopes: ['audit:read'] })).json()).toEqual(refused);
    expect(await setup.env.deps.store.listApiKeys()).toHaveLength(keys);
    // Operations without a body still need none.
    const noBody = await setup.app.inject({
      method: 'POST',
      url: concreteUrl('/api/v1/users/:userId/recovery-codes', world),
      headers,
    });
    expect(noBody.statusCode).toBe(201);
  });

  test('the pages still take submitted forms (application/x-www-form-urlencoded); text/plain is 415 there too', async () => {
    const client = new FormClient(setup.app);
    await signUpThroughPages(client, 'form-poster@example.test');
    expect(await setup.env.deps.store.findUserByEmail('form-poster@example.test')).toBeDefined();
    for (const contentType of ['text/plain', 'application/xml']) {
      const page = await setup.app.inject({
        method: 'POST',
        url: '/sign-in',
        headers: { 'content-type': contentType },
        payload: 'email=a@example.test&password=x',
      });
      expect(page.statusCode, contentType).toBe(415);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(alertText(page.body)).toBe(errorMessages.unsupported_media_type);
    }
  });
});

describe('the API mounted in a host application refuses non-JSON bodies too', () => {
  test('fastifyPlugin inside a host whose Fastify parses text/plain: 415', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sparekey-415-')), 'host.db');
    const sparekey = await createSpareKey({
      database: { kind: 'sqlite', path },
      secret: Buffer.alloc(32, 9).toString('base64'),
      issuer: 'Example',
      kdfProfile: 'minimum',
    });
    const host = Fastify();
    try {
      await host.register(sparekey.fastifyPlugin, { prefix: '/mfa' });
      const key = await sparekey.admin.createApiKey({ name: 'host', scopes: ['mfa:write'] });
      if (!key.ok) throw new Error(key.error);
      const call = (contentType: string, payload: string) =>
        host.inject({
          method: 'PUT',
          url: '/mfa/api/v1/external-users/42',
          headers: { authorization: `Bearer ${key.value.key}`, 'content-type': contentType },
          payload,
        });
      const text = await call('text/plain', '{}');
      expect(text.statusCode).toBe(415);
      expect(text.json()).toEqual(refused);
      expect((await call('application/json', '{}')).statusCode).toBe(201);
    } finally {
      await host.close();
      await sparekey.close();
    }
  });
});
