import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { createApiKey } from '../../src/service/admin/api-keys.js';
import { MAX_RESET_REASON_LENGTH } from '../../src/service/admin/reset-mfa.js';
import { authenticatorCode, configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { DocumentedAnswers } from '../helpers/openapi-conformance.js';
import { totpCode } from '../helpers/rfc6238.js';
import { createTestUser } from '../helpers/service-deps.js';
import { createWebTestApp, type WebTestApp } from '../helpers/web-client.js';
import { KEY_OPERATIONS_DRIVEN_IN_CHROMIUM } from './security-key-operations.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON responses are read field by field in assertions
type Json = Record<string, any>;

describe('the JSON API', () => {
  let web: WebTestApp;
  let adminKey: string;
  let readKey: string;
  beforeAll(async () => {
    web = await createWebTestApp();
    await configureRecoveryCodes(web.env);
    const admin = await createApiKey(web.env.deps, { name: 'tests', scopes: ['admin'], context: {} });
    const read = await createApiKey(web.env.deps, {
      name: 'read',
      scopes: ['recovery_codes:read'],
      context: {},
    });
    if (!admin.ok || !read.ok) throw new Error('keys');
    adminKey = admin.value.key;
    readKey = read.value.key;
    documented = new DocumentedAnswers((await web.app.inject({ url: '/openapi.json' })).json());
  });
  afterAll(async () => web?.close());

  /** Every successful call (method and path), to prove each documented operation worked at least once. */
  const exercised = new Set<string>();
  /** The served document, and every answer the tests got that it does not declare (issue 21.3). */
  let documented: DocumentedAnswers;
  const undocumented = new Set<string>();

  const call = async (method: string, url: string, options: { key?: string; body?: unknown } = {}) => {
    const response = await web.app.inject({
      method: method as 'GET',
      url,
      headers: options.key === '' ? {} : { authorization: `Bearer ${options.key ?? adminKey}` },
      ...(options.body === undefined ? {} : { payload: options.body as Json }),
    });
    if (response.statusCode < 400) exercised.add(`${method.toUpperCase()} ${url.split('?')[0]}`);
    const problem = documented.problemWith(method, url, response);
    if (problem) undocumented.add(problem);
    const json =
      /^application\/json(;|$)/.test(String(response.headers['content-type'])) && response.body
        ? JSON.parse(response.body)
        : undefined;
    return { status: response.statusCode, json, body: response.body, headers: response.headers };
  };

  test('/openapi.json is OpenAPI 3.1; every API route is documented with an operationId, a summary and error responses', async () => {
    const { json: spec } = await call('GET', '/openapi.json', { key: '' });
    expect(spec.openapi).toBe('3.1.0');
    const documented = new Set<string>();
    for (const [path, operations] of Object.entries<Json>(spec.paths)) {
      for (const [method, operation] of Object.entries<Json>(operations)) {
        documented.add(`${method.toUpperCase()} ${path}`);
        expect(operation.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z]+$/);
        expect(operation.summary, `${method} ${path}`).toBeTruthy();
        for (const status of ['400', '401', '403'])
          expect(operation.responses[status], `${method} ${path} ${status}`).toBeDefined();
      }
    }
    const toOpenApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');
    const routes = web.app.apiRoutes
      .filter((route) => !route.hidden)
      .map((route) => `${route.method} ${toOpenApiPath(route.url)}`);
    expect(routes.length).toBeGreaterThan(10);
    expect(routes.filter((route) => !documented.has(route))).toEqual([]);
    const ids = Object.values<Json>(spec.paths).flatMap((ops) =>
      Object.values<Json>(ops).map((op) => op.operationId),
    );
    expect(new Set(ids).size).toBe(ids.length);
    const docs = await call('GET', '/docs/', { key: '' });
    expect(docs.status).toBe(200);
  });

  test('every documented operation answers without credentials with 401 and the error shape (public ones with 400)', async () => {
    const { json: spec } = await call('GET', '/openapi.json', { key: '' });
    for (const [path, operations] of Object.entries<Json>(spec.paths)) {
      for (const [method, operation] of Object.entries<Json>(operations)) {
        const url = path.replace(/\{(\w+)\}/g, 'x');
        const response = await call(method.toUpperCase(), url, {
          key: '',
          body: method === 'get' ? undefined : {},
        });
        const isPublic = Array.isArray(operation.security) && operation.security.length === 0;
        // A public operation that takes no input at all (passkey sign-in's options) has nothing to refuse:
        // it answers for the feature, which this app does not offer (404 security_keys_unavailable).
        const takesInput = operation.requestBody !== undefined || (operation.parameters ?? []).length > 0;
        expect(response.status, `${method} ${url}`).toBe(isPublic ? (takesInput ? 400 : 404) : 401);
        expect(Object.keys(response.json.error).sort(), `${method} ${url}`).toEqual(['code', 'message']);
        if (!isPublic)
          expect(['api_key_required', 'not_signed_in', 'sign_in_expired']).toContain(
            response.json.error.code,
          );
      }
    }
  });

  test('end users: sign-up, sign-in, enroll TOTP with first codes, challenge, recovery code, step-up, sign-out', async () => {
    const post = (url: string, token: string, body: unknown = {}) => call('POST', url, { key: token, body });
    expect(
      (
        await post('/api/v1/auth/sign-up', '', {
          email: 'enduser@example.test',
          password: 'cobalt-harvest-window-8',
        })
      ).status,
    ).toBe(202);
    const first = await post('/api/v1/auth/sign-in', '', {
      email: 'enduser@example.test',
      password: 'cobalt-harvest-window-8',
    });
    expect(first.json).toMatchObject({ stage: 'signed_in' });
    let token = first.json.token as string;
    const enrolled = await post('/api/v1/me/factors/totp', token);
    expect(enrolled.status).toBe(201);
    const confirmed = await post(`/api/v1/me/factors/totp/${enrolled.json.factorId}/confirm`, token, {
      code: authenticatorCode(enrolled.json.secret, web.env.clock.nowMs),
    });
    expect(confirmed.json.mfaEnabled).toBe(true);
    const codes = confirmed.json.recoveryCodes.codes as string[];
    expect(codes).toHaveLength(10);
    token = confirmed.json.token;
    expect((await post('/api/v1/auth/sign-out', token)).status).toBe(204);
    expect((await call('GET', '/api/v1/me/mfa', { key: token })).status).toBe(401);

    const challenge = await post('/api/v1/auth/sign-in', '', {
      email: 'enduser@example.test',
      password: 'cobalt-harvest-window-8',
    });
    expect(challenge.json).toMatchObject({
      stage: 'second_factor',
      secondFactors: { totp: true, recoveryCode: true },
    });
    expect((await call('GET', '/api/v1/me/mfa', { key: challenge.json.token })).json.error.code).toBe(
      'not_signed_in',
    );
    // An app whose user gives up at the second step ends the half-signed-in token; it is dead at once.
    const abandoned = await post('/api/v1/auth/sign-in', '', {
      email: 'enduser@example.test',
      password: 'cobalt-harvest-window-8',
    });
    expect((await post('/api/v1/auth/sign-out', abandoned.json.token)).status).toBe(204);
    expect(
      (await post('/api/v1/auth/second-factor/recovery-code', abandoned.json.token, { code: codes[0] }))
        .status,
    ).toBe(401);
    const wrong = await post('/api/v1/auth/second-factor/recovery-code', challenge.json.token, {
      code: 'A-AAAAA-AAAAA',
    });
    expect(wrong.json.error.code).toBe('invalid_code');
    // A code out of its bounds is the specific code on the end-user routes too (docs/api.md, Error codes).
    for (const body of [{ code: '' }, {}, { code: 'A'.repeat(257) }]) {
      const [recovery, totp] = [
        await post('/api/v1/auth/second-factor/recovery-code', challenge.json.token, body),
        await post('/api/v1/auth/second-factor/totp', challenge.json.token, body),
      ];
      expect([recovery.json.error.code, totp.json.error.code], JSON.stringify(body)).toEqual([
        'malformed_code',
        'invalid_code',
      ]);
    }
    // The shape still comes first: an unknown field is invalid_request even with the code missing.
    expect(
      (await post('/api/v1/auth/second-factor/totp', challenge.json.token, { totp: '123456' })).json.error
        .code,
    ).toBe('invalid_request');
    const recovered = await post('/api/v1/auth/second-factor/recovery-code', challenge.json.token, {
      code: codes[0],
    });
    expect(recovered.json).toMatchObject({ stage: 'signed_in', policy: 'continue', remaining: 9 });
    token = recovered.json.token;
    expect(
      (await post('/api/v1/auth/second-factor/recovery-code', challenge.json.token, { code: codes[1] }))
        .status,
    ).toBe(401);
    expect((await call('GET', '/api/v1/me/mfa', { key: token })).json).toMatchObject({
      mfaEnabled: true,
      recoveryCodes: { remaining: 9 },
    });
    expect((await post('/api/v1/me/recovery-codes', token, { password: 'wrong' })).json.error.code).toBe(
      'step_up_failed',
    );
    const regenerated = await post('/api/v1/me/recovery-codes', token, {
      password: 'cobalt-harvest-window-8',
    });
    expect(regenerated.status).toBe(201);
    // The step-up-protected change rotated the session: the answer carries the new token, the old one is dead.
    expect((await call('GET', '/api/v1/me/mfa', { key: token })).status).toBe(401);
    token = regenerated.json.token;
    const used = await post(
      `/api/v1/users/${(await web.env.deps.store.findUserByEmail('enduser@example.test'))?.id}/recovery-codes/verify`,
      adminKey,
      { code: codes[2] },
    );
    expect(used.json.error.code).toBe('invalid_code');
    const disabled = await post('/api/v1/me/mfa/disable', token, { password: 'cobalt-harvest-window-8' });
    expect(disabled.status).toBe(200);
    expect(disabled.json.token).toEqual(expect.any(String));
  });

  test('end users: email codes as a factor, sign-in by TOTP and by emailed code, removing a factor', async () => {
    const post = (url: string, token: string, body: unknown = {}) => call('POST', url, { key: token, body });
    const email = 'two-factors@example.test';
    const password = 'ember-quarry-sailcloth-6';
    const lastCode = () =>
      web.env.smtp.messages
        .filter((m) => m.to.includes(email))
        .at(-1)
        ?.text.match(/code is (\d+)/)?.[1] as string;
    await post('/api/v1/auth/sign-up', '', { email, password });
    let token = (await post('/api/v1/auth/sign-in', '', { email, password })).json.token as string;
    const started = await post('/api/v1/me/factors/email', token);
    expect(started.status).toBe(201);
    const wrongCode = await post(`/api/v1/me/factors/email/${started.json.factorId}/confirm`, token, {
      code: '000000' === lastCode() ? '111111' : '000000',
    });
    expect(wrongCode.json.error.code).toBe('invalid_code');
    const confirmed = await post(`/api/v1/me/factors/email/${started.json.factorId}/confirm`, token, {
      code: lastCode(),
    });
    expect(confirmed.json.recoveryCodes.codes).toHaveLength(10);
    token = confirmed.json.token;
    const totp = await post('/api/v1/me/factors/totp', token);
    const totpConfirmed = await post(`/api/v1/me/factors/totp/${totp.json.factorId}/confirm`, token, {
      code: authenticatorCode(totp.json.secret, web.env.clock.nowMs),
    });
    expect(totpConfirmed.json.recoveryCodes).toBeNull();
    web.env.clock.advance(30_000);

    const challenge = (await post('/api/v1/auth/sign-in', '', { email, password })).json.token as string;
    expect(
      (await post('/api/v1/auth/second-factor/totp', challenge, { code: '000000' })).json.error.code,
    ).toMatch(/invalid_code|totp_replayed/);
    const byTotp = await post('/api/v1/auth/second-factor/totp', challenge, {
      code: authenticatorCode(totp.json.secret, web.env.clock.nowMs),
    });
    expect(byTotp.json.stage).toBe('signed_in');

    const challenge2 = (await post('/api/v1/auth/sign-in', '', { email, password })).json.token as string;
    expect((await post('/api/v1/auth/second-factor/email/send', challenge2)).status).toBe(202);
    const byEmail = await post('/api/v1/auth/second-factor/email', challenge2, { code: lastCode() });
    expect(byEmail.json.stage).toBe('signed_in');

    const mine = await call('GET', '/api/v1/me/mfa', { key: byEmail.json.token });
    const emailFactor = (mine.json.factors as { id: string; kind: string }[]).find((f) => f.kind === 'email');
    expect(
      (await post(`/api/v1/me/factors/${emailFactor?.id}/remove`, byEmail.json.token, { password: 'nope' }))
        .status,
    ).toBe(401);
    const removed = await post(`/api/v1/me/factors/${emailFactor?.id}/remove`, byEmail.json.token, {
      password,
    });
    expect(removed.status).toBe(200);
    const totpFactor = (mine.json.factors as { id: string; kind: string }[]).find((f) => f.kind === 'totp');
    const last = await post(`/api/v1/me/factors/${totpFactor?.id}/remove`, removed.json.token, { password });
    expect(last.json.error.code).toBe('last_factor');
  });

  test('end users: change my password with the current one; the old token dies, the answer carries the new one', async () => {
    const post = (url: string, token: string, body: unknown = {}) => call('POST', url, { key: token, body });
    const email = 'changes-password@example.test';
    const password = 'juniper-atlas-rowing-4';
    await post('/api/v1/auth/sign-up', '', { email, password });
    const token = (await post('/api/v1/auth/sign-in', '', { email, password })).json.token as string;
    const newPassword = 'harbor-violet-kettle-5';
    const wrong = await post('/api/v1/me/password', token, { currentPassword: 'not it at all', newPassword });
    expect(wrong.json.error.code).toBe('current_password_wrong');
    const changed = await post('/api/v1/me/password', token, { currentPassword: password, newPassword });
    expect(changed.status).toBe(200);
    expect((await call('GET', '/api/v1/me/mfa', { key: token })).status).toBe(401);
    expect((await call('GET', '/api/v1/me/mfa', { key: changed.json.token })).status).toBe(200);
    expect((await post('/api/v1/auth/sign-in', '', { email, password: newPassword })).status).toBe(200);
  });

  test("a backend enrolls and verifies a user's authenticator by user id; every key use is audited", async () => {
    const created = await call('POST', '/api/v1/users', {
      body: { email: 'backend-enrolled@example.test', password: 'copper-lighthouse-9' },
    });
    const base = `/api/v1/users/${created.json.userId}/factors/totp`;
    const enrolled = await call('POST', base);
    expect(enrolled.status).toBe(201);
    expect(enrolled.json.uri).toMatch(/^otpauth:\/\/totp\//);
    expect(
      (await call('POST', `${base}/${enrolled.json.factorId}/confirm`, { body: { code: '000000' } })).status,
    ).toBeGreaterThanOrEqual(400);
    const confirmed = await call('POST', `${base}/${enrolled.json.factorId}/confirm`, {
      body: { code: authenticatorCode(enrolled.json.secret, web.env.clock.nowMs) },
    });
    expect(confirmed.json.mfaEnabled).toBe(true);
    expect(confirmed.json.recoveryCodes.codes).toHaveLength(10);
    web.env.clock.advance(30_000);
    const code = authenticatorCode(enrolled.json.secret, web.env.clock.nowMs);
    expect((await call('POST', `${base}/verify`, { body: { code } })).json.factorId).toBe(
      enrolled.json.factorId,
    );
    expect((await call('POST', `${base}/verify`, { body: { code } })).json.error.code).toBe('totp_replayed');
    const uses = await web.env.deps.store.listAuditEvents({ action: 'api_key_used', limit: 3 });
    expect(uses[0]?.details).toMatchObject({ operation: 'POST /api/v1/users/:userId/factors/totp/verify' });
    expect(uses[0]?.actorId).toMatch(/^apikey:/);
  });

  test('drift 4: a missing, malformed, unknown, forged or revoked key is 401, a key outside its scope 403; each refusal and each use is audited exactly once, with its reason', async () => {
    const [last] = await web.env.deps.store.listAuditEvents({ limit: 1 });
    const keyEvents = async () =>
      (await web.env.deps.store.listAuditEvents({ limit: 100 }))
        .filter((event) => event.seq > (last?.seq ?? 0) && event.action.startsWith('api_key_'))
        .sort((a, b) => a.seq - b.seq)
        .map((event) => ({ action: event.action, actorId: event.actorId, ...event.details }));
    const statistics = (key: string) => call('GET', '/api/v1/statistics', { key });
    const adminKeyId = adminKey.slice('sk_'.length, 'sk_'.length + 12);
    const readKeyId = readKey.slice('sk_'.length, 'sk_'.length + 12);
    const operation = 'GET /api/v1/statistics';

    const outOfScope = await statistics(readKey);
    expect([outOfScope.status, outOfScope.json.error.code]).toEqual([403, 'api_scope_missing']);
    for (const key of [
      '',
      'sk_not-a-key',
      `sk_${'z'.repeat(12)}_${'A'.repeat(43)}`,
      `${adminKey.slice(0, -2)}xx`,
    ]) {
      const refused = await statistics(key);
      expect([refused.status, refused.json.error.code], key).toEqual([401, 'api_key_required']);
      expect(refused.headers['www-authenticate']).toBe('Bearer');
    }
    const created = await call('POST', '/api/v1/api-keys', {
      body: { name: 'temp', scopes: ['audit:read'] },
    });
    expect(created.status).toBe(201);
    expect((await call('GET', '/api/v1/audit-events?limit=1', { key: created.json.key })).status).toBe(200);
    expect((await call('DELETE', `/api/v1/api-keys/${created.json.id}`)).status).toBe(204);
    expect((await call('GET', '/api/v1/audit-events?limit=1', { key: created.json.key })).status).toBe(401);

    const used = (keyId: string, op: string) => ({
      action: 'api_key_used',
      actorId: `apikey:${keyId}`,
      keyId,
      operation: op,
    });
    const refusal = (reason: string, keyId: string | null) => ({
      action: 'api_key_refused',
      actorId: null,
      keyId,
      reason,
      operation,
    });
    expect(await keyEvents()).toEqual([
      {
        action: 'api_key_scope_refused',
        actorId: `apikey:${readKeyId}`,
        keyId: readKeyId,
        operation,
        scope: 'admin',
      },
      refusal('missing', null),
      refusal('malformed', null),
      refusal('unknown', 'z'.repeat(12)),
      refusal('wrong_secret', adminKeyId),
      used(adminKeyId, 'POST /api/v1/api-keys'),
      expect.objectContaining({ action: 'api_key_created', keyId: created.json.id }),
      used(created.json.id, 'GET /api/v1/audit-events'),
      used(adminKeyId, 'DELETE /api/v1/api-keys/:keyId'),
      expect.objectContaining({ action: 'api_key_revoked', keyId: created.json.id }),
      { ...refusal('revoked', created.json.id), operation: 'GET /api/v1/audit-events' },
    ]);
    expect((await call('DELETE', `/api/v1/api-keys/${created.json.id}`)).status).toBe(404);
    const stored = await web.env.deps.store.findApiKey(created.json.id);
    expect(stored?.secretHash).not.toContain(created.json.key.slice('sk_'.length + 13));
  });

  test('a backend drives a user: status, generate, verify once, MFA status, reset; errors keep the shape', async () => {
    const user = await createTestUser(web.env);
    await enableTotp(web.env, user.id);
    const base = `/api/v1/users/${user.id}`;
    expect((await call('GET', `${base}/recovery-codes`)).json).toMatchObject({
      hasCodes: true,
      remaining: 10,
    });
    const generated = await call('POST', `${base}/recovery-codes`);
    expect(generated.status).toBe(201);
    expect(generated.headers['cache-control']).toBe('no-store');
    const code = generated.json.codes[0] as string;
    const verified = await call('POST', `${base}/recovery-codes/verify`, {
      body: { code: code.toLowerCase() },
    });
    expect(verified.json).toEqual({ policy: 'continue', remaining: 9, total: 10, low: false });
    const again = await call('POST', `${base}/recovery-codes/verify`, { body: { code } });
    expect(again.status).toBe(409);
    expect(again.json).toEqual({
      error: { code: 'code_already_used', message: errorMessages.code_already_used },
    });
    expect((await call('POST', `${base}/recovery-codes/verify`, { body: { code: 'nope' } })).status).toBe(
      400,
    );
    const invalid = await call('POST', `${base}/recovery-codes/verify`, { body: { wrong: 1 } });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.code).toBe('invalid_request');
    expect((await call('GET', `${base}/mfa`)).json).toMatchObject({
      mfaEnabled: true,
      factors: [{ kind: 'totp' }],
    });
    expect((await call('GET', '/api/v1/users/nobody/recovery-codes')).status).toBe(404);
    // One limit for the reason (service constant), used by the API schema and the admin page's form; an
    // empty, missing or over-long one is `reason_required`, as the library and the CLI answer.
    const tooLong = { reason: 'x'.repeat(MAX_RESET_REASON_LENGTH + 1) };
    for (const body of [{ reason: '' }, {}, tooLong]) {
      const refused = await call('POST', `${base}/mfa/reset`, { body });
      expect(refused.status).toBe(400);
      expect(refused.json.error).toEqual({ code: 'reason_required', message: errorMessages.reason_required });
    }
    // A wrong type or an unknown field stays a malformed request.
    for (const body of [{ reason: 7 }, { reason: 'ticket 9', userId: 'someone-else' }])
      expect((await call('POST', `${base}/mfa/reset`, { body })).json.error.code).toBe('invalid_request');
    const reset = await call('POST', `${base}/mfa/reset`, { body: { reason: 'support ticket 9' } });
    expect(reset.json).toEqual({ factorsRemoved: 1, sessionsEnded: 0 });
    const [event] = await web.env.deps.store.listAuditEvents({ action: 'mfa_reset', limit: 1 });
    expect(event?.actorId).toMatch(/^apikey:/);
  });

  test('admin operations: statistics, settings (422 on invalid), users with codes, audit query/export/verification, users', async () => {
    expect((await call('GET', '/api/v1/statistics')).json.usersWithCodes).toBeGreaterThanOrEqual(0);
    expect((await call('GET', '/api/v1/settings')).json.enabled).toBe(true);
    const bad = await call('PATCH', '/api/v1/settings', { body: { codesPerSet: 99 } });
    expect(bad.status).toBe(422);
    expect(bad.json.error.code).toBe('invalid_settings');
    expect((await call('PATCH', '/api/v1/settings', { body: { lowThreshold: 2 } })).json.lowThreshold).toBe(
      2,
    );
    const created = await call('POST', '/api/v1/users', {
      body: { email: 'api-user@example.test', password: 'amber-cellar-quietly-3' },
    });
    expect(created.status).toBe(201);
    expect(
      (
        await call('POST', '/api/v1/users', {
          body: { email: 'api-user@example.test', password: 'amber-cellar-quietly-3' },
        })
      ).status,
    ).toBe(409);
    expect(
      (await call('POST', '/api/v1/users', { body: { email: 'weak@example.test', password: 'password' } }))
        .json.error.code,
    ).toBe('password_common');
    expect((await call('GET', '/api/v1/users-by-email/api-user@example.test')).json.id).toBe(
      created.json.userId,
    );
    // The first, ambiguous path still answers for existing clients, marked deprecated with its successor.
    const legacy = await call('GET', '/api/v1/users/by-email/api-user@example.test');
    expect(legacy.json.id).toBe(created.json.userId);
    expect(legacy.headers.deprecation).toBe('@1796256000');
    expect(legacy.headers.link).toBe(
      '<../../users-by-email/api-user%40example.test>; rel="successor-version"',
    );
    expect(
      new URL('../../users-by-email/x', 'http://h/api/v1/users/by-email/api-user@example.test').pathname,
    ).toBe('/api/v1/users-by-email/x');
    expect((await call('GET', '/api/v1/users-with-codes?limit=2')).json.users.length).toBeLessThanOrEqual(2);
    const events = await call('GET', '/api/v1/audit-events?action=settings_changed&limit=5');
    expect(events.json.events[0].action).toBe('settings_changed');
    expect((await call('GET', '/api/v1/audit-events?action=not_real')).status).toBe(400);
    const exported = await call('GET', '/api/v1/audit-events/export?format=jsonl');
    expect(exported.body.trim().split('\n').length).toBeGreaterThan(3);
    expect((await call('GET', '/api/v1/audit-events/verification')).json).toMatchObject({ ok: true });
    expect((await call('GET', '/api/v1/nothing-here')).json.error.code).toBe('not_found');
  });

  test('issue 22 applications: register (secret once), list, read, change, rotate, disable, enable, delete; statistics per application', async () => {
    const body = {
      name: 'Grafana',
      redirectUris: ['https://grafana.example.test/login/generic_oauth'],
      kind: 'confidential',
      scopes: ['openid', 'email', 'groups'],
    };
    const registered = await call('POST', '/api/v1/applications', { body });
    expect(registered.status).toBe(201);
    const id = registered.json.application.clientId;
    expect(registered.json.clientSecret).toMatch(/^sks_/);
    expect(
      (await call('GET', '/api/v1/applications')).json.applications.map((a: Json) => a.clientId),
    ).toContain(id);
    expect((await call('GET', `/api/v1/applications/${id}`)).json.name).toBe('Grafana');
    const changed = await call('PUT', `/api/v1/applications/${id}`, {
      body: { ...body, kind: undefined, name: 'Grafana (ops)', twoFactorRequired: true },
    });
    expect(changed.json).toMatchObject({ name: 'Grafana (ops)', twoFactorRequired: true });
    const rotated = await call('POST', `/api/v1/applications/${id}/secret`);
    expect(rotated.json.clientSecret).not.toBe(registered.json.clientSecret);
    expect((await call('POST', `/api/v1/applications/${id}/disable`)).json.disabledAt).not.toBeNull();
    expect((await call('POST', `/api/v1/applications/${id}/enable`)).json.disabledAt).toBeNull();
    const stats = await call('GET', '/api/v1/statistics');
    expect(stats.json.signInsByApplication).toContainEqual({
      clientId: id,
      name: 'Grafana (ops)',
      disabled: false,
      today: 0,
      last30Days: 0,
    });
    expect((await call('DELETE', `/api/v1/applications/${id}`)).status).toBe(204);
    expect((await call('GET', `/api/v1/applications/${id}`)).status).toBe(404);
  });

  test('a 2FA-only backend holds mfa:write, never admin: every by-user operation by its own user ids', async () => {
    const created = await createApiKey(web.env.deps, { name: '2fa', scopes: ['mfa:write'], context: {} });
    if (!created.ok) throw new Error(created.error);
    const key = created.value.key;
    const user = '/api/v1/external-users/host-42';
    const first = await call('PUT', user, { key, body: { email: 'host42@example.test' } });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ externalId: 'host-42', email: 'host42@example.test', created: true });
    // Idempotent; an unknown field in the body is refused, the identity comes from the path only.
    expect((await call('PUT', user, { key, body: {} })).json).toMatchObject({
      userId: first.json.userId,
      created: false,
    });
    expect((await call('PUT', user, { key, body: { externalId: 'other' } })).status).toBe(400);
    const enrollment = await call('POST', `${user}/factors/totp`, { key });
    expect(enrollment.status).toBe(201);
    const confirmed = await call('POST', `${user}/factors/totp/${enrollment.json.factorId}/confirm`, {
      key,
      body: { code: totpCode(enrollment.json.secret, { timeMs: web.env.clock.nowMs }) },
    });
    expect(confirmed.status, confirmed.body).toBe(200);
    const codes: string[] = confirmed.json.recoveryCodes.codes;
    expect(
      (await call('POST', `${user}/factors/totp/verify`, { key, body: { code: '000000' } })).status,
    ).toBe(401);
    // The next time step (the confirming one is spent; the window accepts one step of drift).
    const next = totpCode(enrollment.json.secret, { timeMs: web.env.clock.nowMs + 30_000 });
    expect((await call('POST', `${user}/factors/totp/verify`, { key, body: { code: next } })).status).toBe(
      200,
    );
    expect(
      (await call('POST', `${user}/recovery-codes/verify`, { key, body: { code: codes[0] } })).status,
    ).toBe(200);
    expect(
      (await call('POST', `${user}/recovery-codes/verify`, { key, body: { code: codes[0] } })).json.error
        .code,
    ).toBe('code_already_used');
    expect((await call('GET', `${user}/recovery-codes`, { key })).json).toMatchObject({
      remaining: codes.length - 1,
    });
    expect((await call('GET', `${user}/mfa`, { key })).json.mfaEnabled).toBe(true);
    expect((await call('POST', `${user}/recovery-codes`, { key })).status).toBe(201);
    expect((await call('PUT', `${user}/email`, { key, body: { email: null } })).json).toEqual({
      email: null,
    });
    expect((await call('POST', `${user}/mfa/reset`, { key, body: { reason: 'ticket 42' } })).status).toBe(
      200,
    );
    expect((await call('DELETE', user, { key })).json).toMatchObject({ factors: 0, recoveryCodeSets: 0 });
    expect((await call('GET', `${user}/recovery-codes`, { key })).json.error.code).toBe('user_not_found');
    // What mfa:write cannot do: keys, settings, statistics, SpareKey's own accounts.
    for (const [method, url] of [
      ['GET', '/api/v1/statistics'],
      ['GET', '/api/v1/settings'],
      ['POST', '/api/v1/api-keys'],
      ['DELETE', `/api/v1/users/${first.json.userId}`],
    ] as const)
      expect(
        (await call(method, url, { key, body: method === 'POST' ? {} : undefined })).json.error.code,
      ).toBe('api_scope_missing');
    // An admin key deletes a SpareKey account by its id.
    const own = await call('PUT', '/api/v1/external-users/host-43', { key, body: {} });
    expect((await call('DELETE', `/api/v1/users/${own.json.userId}`)).status).toBe(200);
    // The document states each operation's scope.
    const { json: spec } = await call('GET', '/openapi.json', { key: '' });
    const ensure = spec.paths['/api/v1/external-users/{externalId}'].put;
    expect(ensure['x-required-scope']).toBe('mfa:write');
    expect(ensure.security).toEqual([{ apiKey: ['mfa:write'] }]);
    expect(spec.paths['/api/v1/users/{userId}/recovery-codes'].get.description).toContain(
      'Requires an API key with the `recovery_codes:read` scope (or `mfa:read`, `mfa:write`, `admin`).',
    );
  });

  test('every documented operationId was called successfully by the tests above', async () => {
    const { json: spec } = await call('GET', '/openapi.json', { key: '' });
    const missing: string[] = [];
    for (const [path, operations] of Object.entries<Json>(spec.paths)) {
      const pattern = new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+')}$`);
      for (const [method, operation] of Object.entries<Json>(operations)) {
        const called = [...exercised].some((entry) => {
          const [calledMethod, calledPath] = entry.split(' ');
          return calledMethod === method.toUpperCase() && pattern.test(calledPath as string);
        });
        if (!called && !KEY_OPERATIONS_DRIVEN_IN_CHROMIUM.includes(operation.operationId))
          missing.push(operation.operationId);
      }
    }
    expect(missing).toEqual([]);
  });

  test('every answer the tests above got is declared by its operation: the status, the media type, the error code in the Error enum (issue 21.3)', () => {
    expect(exercised.size).toBeGreaterThan(40);
    expect([...undocumented]).toEqual([]);
  });
});
