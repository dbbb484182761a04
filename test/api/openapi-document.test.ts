import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { createApiKey } from '../../src/service/admin/api-keys.js';
import { DocumentedAnswers } from '../helpers/openapi-conformance.js';
import { createWebTestApp, type WebTestApp } from '../helpers/web-client.js';

// biome-ignore lint/suspicious/noExplicitAny: the document is read as parsed JSON, field by field
type Json = Record<string, any>;

/**
 * Issue 21.3: the served /openapi.json is something a code generator can trust. The lint is in
 * openapi-lint.test.ts, the generated client in typed-client.test.ts; answers the API tests get are held to
 * the document in api.test.ts (DocumentedAnswers).
 */
describe('the OpenAPI document (issue 21.3)', () => {
  let web: WebTestApp;
  let spec: Json;
  let adminKey: string;
  const operations: { method: string; path: string; operation: Json }[] = [];
  beforeAll(async () => {
    web = await createWebTestApp();
    spec = (await web.app.inject({ url: '/openapi.json' })).json();
    for (const [path, byMethod] of Object.entries<Json>(spec.paths))
      for (const [method, operation] of Object.entries<Json>(byMethod))
        operations.push({ method: method.toUpperCase(), path, operation });
    const admin = await createApiKey(web.env.deps, { name: 'document', scopes: ['admin'], context: {} });
    if (!admin.ok) throw new Error('key');
    adminKey = admin.value.key;
  });
  afterAll(async () => web?.close());

  test('the error body is one named schema, components/schemas/Error, its code an enum of every code the API can answer', () => {
    const error = spec.components.schemas.Error;
    expect(error.additionalProperties).toBe(false);
    expect(error.properties.error.required).toEqual(['code', 'message']);
    // Read from the catalog, not copied: a code added there is in the document at once.
    expect([...error.properties.error.properties.code.enum].sort()).toEqual(
      [...Object.keys(errorMessages), 'internal_error'].sort(),
    );
    for (const { method, path, operation } of operations)
      for (const [status, response] of Object.entries<Json>(operation.responses))
        if (Number(status) >= 400)
          expect(response.content['application/json'].schema, `${method} ${path} ${status}`).toEqual({
            $ref: '#/components/schemas/Error',
          });
    // The answers' checker reads the same enum: a code outside it fails the test that met it.
    const checker = new DocumentedAnswers(spec);
    const refused = (code: string) => ({
      statusCode: 404,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ error: { code, message: 'x' } }),
    });
    const url = '/api/v1/users/some-id/recovery-codes';
    expect(checker.problemWith('GET', url, refused('user_not_found'))).toBeUndefined();
    expect(checker.problemWith('GET', url, refused('no_such_code'))).toMatch(/not in the Error enum/);
    expect(checker.problemWith('GET', url, { ...refused('user_not_found'), statusCode: 410 })).toMatch(
      /does not declare/,
    );
  });

  test('every operation on a user by SpareKey id has its twin by the host id, with the same scope (issue 21.1)', () => {
    const byUserId = operations.filter(({ path }) => path.startsWith('/api/v1/users/{userId}'));
    expect(byUserId.length).toBeGreaterThan(10);
    const missing = byUserId.flatMap(({ method, path, operation }) => {
      const twinPath = path.replace('/api/v1/users/{userId}', '/api/v1/external-users/{externalId}');
      const twin = spec.paths[twinPath]?.[method.toLowerCase()];
      if (!twin) return [`${method} ${twinPath}`];
      expect(twin.operationId, twinPath).toBe(`${operation.operationId}ByExternalId`);
      // Deleting SpareKey's own accounts needs admin; the host-id form reaches only users a host created.
      if (operation.operationId !== 'deleteUser')
        expect(twin['x-required-scope'], twinPath).toBe(operation['x-required-scope']);
      return [];
    });
    expect(missing).toEqual([]);
  });

  test('every response has a real description: none is "Default Response"', () => {
    expect(JSON.stringify(spec)).not.toContain('Default Response');
    for (const { method, path, operation } of operations)
      for (const [status, response] of Object.entries<Json>(operation.responses))
        expect(response.description?.length, `${method} ${path} ${status}`).toBeGreaterThan(10);
  });

  test('the audit export declares text/csv and application/jsonl, and answers with them', async () => {
    const exported = spec.paths['/api/v1/audit-events/export'].get.responses['200'];
    expect(Object.keys(exported.content).sort()).toEqual(['application/jsonl', 'text/csv']);
    const checker = new DocumentedAnswers(spec);
    for (const format of ['csv', 'jsonl']) {
      const url = `/api/v1/audit-events/export?format=${format}`;
      const response = await web.app.inject({ url, headers: { authorization: `Bearer ${adminKey}` } });
      expect(response.statusCode).toBe(200);
      expect(checker.problemWith('GET', url, response)).toBeUndefined();
    }
  });

  test('every operation that takes a body declares 413 and 415, and a body that is not JSON gets the declared 415', async () => {
    const checker = new DocumentedAnswers(spec);
    let tried = 0;
    for (const { method, path, operation } of operations) {
      if (method === 'GET') continue;
      for (const status of ['413', '415'])
        expect(operation.responses[status], `${method} ${path} ${status}`).toBeDefined();
      // A key or no credential reaches the body parser; a session route refuses first (401), so is left out.
      if (operation['x-required-session'] && operation['x-required-session'] !== 'none') continue;
      const url = path.replace(/\{(\w+)\}/g, 'x');
      const response = await web.app.inject({
        method: method as 'POST',
        url,
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/xml' },
        payload: '<code>123456</code>',
      });
      expect(response.statusCode, `${method} ${path}`).toBe(415);
      expect(response.json().error.code).toBe('unsupported_media_type');
      expect(checker.problemWith(method, url, response)).toBeUndefined();
      tried++;
    }
    expect(tried).toBeGreaterThan(15);
  });

  test('every 429 declares Retry-After; the operations that check codes or passwords declare 429', () => {
    for (const { method, path, operation } of operations) {
      const throttled = operation.responses['429'];
      if (throttled)
        expect(throttled.headers['Retry-After'].schema, `${method} ${path}`).toMatchObject({
          type: 'integer',
          minimum: 1,
        });
    }
    // Each attempt is charged to the account before it is checked (service/throttle/throttle.ts).
    const checkingCodes = operations.filter(({ operation }) =>
      /^(verify(RecoveryCode|UserTotp|SecurityKey)|signIn|changeMyPassword|regenerateMyRecoveryCodes|removeMyFactor|disableMyMfa|confirmMyEmailFactor|enrollMyEmailFactor|sendSignInEmailCode)/.test(
        operation.operationId,
      ),
    );
    expect(checkingCodes.length).toBe(19);
    for (const { method, path, operation } of checkingCodes)
      expect(operation.responses['429'], `${method} ${path}`).toBeDefined();
  });

  test('each operation states what it needs (a scope, a session stage, or nothing), and docs/api.md lists every operation with it', () => {
    const guide = readFileSync(join(import.meta.dirname, '../../docs/api.md'), 'utf8');
    const missing: string[] = [];
    for (const { method, path, operation } of operations) {
      const scope = operation['x-required-scope'];
      const session = operation['x-required-session'];
      expect(scope === undefined, `${method} ${path}: a scope or a session, not both`).not.toBe(
        session === undefined,
      );
      if (scope) expect(operation.security).toEqual([{ apiKey: [scope] }]);
      else if (session === 'none') expect(operation.security).toEqual([]);
      else expect(operation.security).toEqual([{ session: [] }]);
      expect(operation.description).toMatch(
        /Requires an API key with the `[a-z_:]+` scope|session token|Public/,
      );
      const needs = scope ? `\`${scope}\`` : session === 'none' ? 'public' : `session (\`${session}\`)`;
      const row = `| \`${method} ${path.replace('/api/v1', '')}\` | \`${operation.operationId}\` | ${needs} |`;
      if (!guide.includes(row)) missing.push(row);
    }
    expect(missing, 'rows docs/api.md should have').toEqual([]);
  });
});
