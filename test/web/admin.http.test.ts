import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import { loadRecoveryCodeSettings } from '../../src/service/admin/settings.js';
import { configureRecoveryCodes } from '../helpers/mfa.js';
import { alertText, createWebTestApp, type FormClient, type WebTestApp } from '../helpers/web-client.js';
import {
  enableTotpThroughPages,
  passwordStep,
  signedInAdmin,
  signUpThroughPages,
  TEST_PASSWORD,
} from '../helpers/web-flows.js';

describe('administration over HTTP: access and every error path', () => {
  let web: WebTestApp;
  let admin: FormClient;
  let adminId: string;
  beforeAll(async () => {
    web = await createWebTestApp();
    await configureRecoveryCodes(web.env);
    ({ client: admin, id: adminId } = await signedInAdmin(web, 'root@example.test'));
  });
  afterAll(async () => web?.close());

  const adminPages = [
    '/admin',
    '/admin/settings',
    '/admin/users',
    '/admin/roles',
    '/admin/audit',
    '/admin/audit/verify',
  ];

  test('signed out: every admin page sends the browser to sign in', async () => {
    const client = web.client();
    for (const path of adminPages) {
      const response = await client.get(path);
      expect(response.statusCode, path).toBe(303);
      expect(response.headers.location).toBe('/sign-in?notice=session-expired');
    }
  });

  test('a signed-in non-administrator gets 403 on every admin page and form', async () => {
    const client = web.client();
    await signUpThroughPages(client, 'plain-user@example.test');
    for (const path of [...adminPages, '/admin/audit/export.csv']) {
      const response = await client.get(path);
      expect(response.statusCode, path).toBe(403);
      expect(alertText(response.body)).toBe(errorMessages.not_admin);
    }
    await client.get('/settings/two-factor');
    const post = await client.post('/admin/settings', { enabled: 'on' });
    expect(post.statusCode).toBe(403);
    expect((await loadRecoveryCodeSettings(web.env.deps.store)).enabled).toBe(true);
  });

  test('administrators see the Administration link and every page', async () => {
    for (const path of adminPages) expect((await admin.get(path)).statusCode, path).toBe(200);
    expect(admin.lastPage).toContain('href="/admin">Administration</a>');
  });

  test('settings: invalid values are listed with 400 and nothing is saved; a valid change is saved and audited', async () => {
    const before = await loadRecoveryCodeSettings(web.env.deps.store);
    await admin.get('/admin/settings');
    const form = {
      enabled: 'on',
      codesPerSet: '40',
      secretLength: '6',
      slotLength: '1',
      groupSize: '5',
      lowThreshold: '3',
      policy: 'continue',
    };
    const refused = await admin.post('/admin/settings', form);
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain('Nothing was saved');
    expect(refused.body).toContain('at least 40 bits of entropy');
    expect(refused.body).toContain('The number of codes must be a whole number from 1 to 32');
    expect(await loadRecoveryCodeSettings(web.env.deps.store)).toEqual(before);

    await admin.get('/admin/settings');
    const saved = await admin.post('/admin/settings', {
      ...form,
      codesPerSet: '8',
      secretLength: '10',
      policy: 'rotate',
    });
    expect(saved.statusCode).toBe(303);
    const after = await loadRecoveryCodeSettings(web.env.deps.store);
    expect(after).toMatchObject({ codesPerSet: 8, policy: 'rotate', allowedRoles: [] });
    const [event] = await web.env.deps.store.listAuditEvents({ action: 'settings_changed', limit: 1 });
    expect(event?.actorId).toBe(adminId);
    expect(String(event?.details.before)).toContain('"policy":"continue"');
    await configureRecoveryCodes(web.env, {
      codesPerSet: 10,
      policy: 'continue',
      allowedRoles: ['administrator', 'editor', 'author', 'subscriber'],
    });
  });

  test('without JavaScript, "Select all" shows every role selected and saves nothing', async () => {
    const before = await loadRecoveryCodeSettings(web.env.deps.store);
    await admin.get('/admin/settings');
    const response = await admin.post('/admin/settings', {
      bulk: 'none',
      codesPerSet: '10',
      secretLength: '10',
      slotLength: '1',
      groupSize: '5',
      lowThreshold: '3',
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('Not saved yet');
    expect(response.body).not.toMatch(/<option value="editor" selected/);
    expect(await loadRecoveryCodeSettings(web.env.deps.store)).toEqual(before);
  });

  test('reset needs a reason (400) and step-up (401); an unknown user is 404', async () => {
    const user = web.client();
    await signUpThroughPages(user, 'locked-out@example.test');
    await enableTotpThroughPages(user, web.env);
    const userId = (await web.env.deps.store.findUserByEmail('locked-out@example.test'))?.id as string;
    await admin.get(`/admin/users/${userId}`);
    const noReason = await admin.post(`/admin/users/${userId}/reset`, {
      reason: ' ',
      password: TEST_PASSWORD,
    });
    expect(noReason.statusCode).toBe(400);
    expect(alertText(noReason.body)).toBe(errorMessages.reason_required);
    const wrong = await admin.post(`/admin/users/${userId}/reset`, { reason: 'ticket 1', password: 'nope' });
    expect(wrong.statusCode).toBe(401);
    expect(await web.env.deps.store.listFactors(userId)).toHaveLength(1);
    const done = await admin.post(`/admin/users/${userId}/reset`, {
      reason: 'ticket 1',
      password: TEST_PASSWORD,
    });
    expect(done.statusCode).toBe(303);
    expect(await web.env.deps.store.listFactors(userId)).toHaveLength(0);
    // The user was signed out everywhere.
    expect((await user.get('/settings/two-factor')).statusCode).toBe(303);
    expect((await admin.get('/admin/users/unknown-id')).statusCode).toBe(404);
  });

  test('roles: a bad name is 400, a duplicate 409; an unknown role cannot be assigned', async () => {
    await admin.get('/admin/roles');
    expect((await admin.post('/admin/roles', { name: 'Bad Name!' })).statusCode).toBe(400);
    expect((await admin.post('/admin/roles', { name: 'support' })).statusCode).toBe(303);
    await admin.get('/admin/roles');
    const duplicate = await admin.post('/admin/roles', { name: 'support' });
    expect(duplicate.statusCode).toBe(409);
    await admin.get(`/admin/users/${adminId}`);
    const unknown = await admin.post(`/admin/users/${adminId}/roles`, { roles: 'root' });
    expect(unknown.statusCode).toBe(400);
  });

  test('audit: a bad filter is 400; exports stream with download headers; a purge needs step-up and keeps 30 days', async () => {
    expect((await admin.get('/admin/audit?action=not_an_event')).statusCode).toBe(400);
    expect((await admin.get('/admin/audit?from=2026-13-45')).statusCode).toBe(400);
    expect((await admin.get('/admin/audit?from=2026-11-02&to=2026-11-01')).statusCode).toBe(400);
    const csv = await admin.get('/admin/audit/export.csv?action=sign_in');
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toMatch(
      /attachment; filename="sparekey-audit-\d{4}-\d\d-\d\d\.csv"/,
    );
    expect(csv.body.split('\r\n')[0]).toBe(
      'seq,at,action,outcome,userId,userEmail,actorId,actorEmail,ip,userAgent,details,prevHash,hash,chainSeq,sealed',
    );
    const jsonl = await admin.get('/admin/audit/export.jsonl');
    expect(
      jsonl.body
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
        // Sealed events carry their chain place and hashes; the rest are marked as not yet sealed.
        .every((event) =>
          event.sealed
            ? event.hash.length === 64 && event.chainSeq > 0
            : event.hash === null && event.chainSeq === null,
        ),
    ).toBe(true);

    await admin.get('/admin/audit');
    expect((await admin.post('/admin/audit/purge', { days: '5', password: TEST_PASSWORD })).statusCode).toBe(
      400,
    );
    await admin.get('/admin/audit');
    expect((await admin.post('/admin/audit/purge', { days: '365', password: 'nope' })).statusCode).toBe(401);
  });

  test('a role that must use two-factor: its members can reach only the two-factor settings until it is on', async () => {
    await configureRecoveryCodes(web.env, { mfaRequiredRoles: ['editor'] });
    try {
      const editor = web.client();
      await signUpThroughPages(editor, 'editor@example.test');
      const id = (await web.env.deps.store.findUserByEmail('editor@example.test'))?.id as string;
      await web.env.deps.store.setUserRoles(id, ['editor', 'administrator']);
      const blocked = await editor.get('/admin');
      expect(blocked.statusCode).toBe(303);
      expect(blocked.headers.location).toBe('/settings/two-factor?notice=mfa-required');
      await enableTotpThroughPages(editor, web.env);
      expect((await editor.get('/admin')).statusCode).toBe(200);
      await editor.post('/sign-out', {});
      await editor.follow(await passwordStep(editor, 'editor@example.test'));
    } finally {
      await configureRecoveryCodes(web.env, { mfaRequiredRoles: [] });
    }
  });

  test('API keys: created with scopes and shown once, usable at once, revoked at once; bad input 400', async () => {
    await admin.get('/admin/api-keys');
    expect((await admin.post('/admin/api-keys', { name: 'billing' })).statusCode).toBe(400);
    await admin.get('/admin/api-keys');
    const created = await admin.post('/admin/api-keys', { name: 'billing', scopes: 'recovery_codes:read' });
    expect(created.statusCode).toBe(201);
    const key = created.body.match(/id="new-api-key" class="secret">(sk_[^<]+)</)?.[1] as string;
    expect(key).toMatch(/^sk_/);
    const api = (token: string) =>
      web.app.inject({
        url: '/api/v1/users-by-email/root@example.test',
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await api(key)).statusCode).toBe(200);
    const page = await admin.get('/admin/api-keys');
    expect(page.body).not.toContain(key);
    const id = key.split('_')[1] as string;
    const revoked = await admin.post(`/admin/api-keys/${id}/revoke`, {});
    expect(revoked.statusCode).toBe(303);
    expect((await api(key)).statusCode).toBe(401);
  });

  test('roles: the only administrator keeps the role (409 last_administrator) and the page says why', async () => {
    for (const user of await web.env.deps.store.listUsers({ limit: 1000 }))
      if (user.id !== adminId && user.roles.includes('administrator'))
        await web.env.deps.store.setUserRoles(user.id, ['editor']);
    await admin.get(`/admin/users/${adminId}`);
    const refused = await admin.post(`/admin/users/${adminId}/roles`, { roles: 'editor' });
    expect(refused.statusCode).toBe(409);
    expect(alertText(refused.body)).toBe(errorMessages.last_administrator);
    expect((await web.env.deps.store.findUserById(adminId))?.roles).toContain('administrator');
  });
});
