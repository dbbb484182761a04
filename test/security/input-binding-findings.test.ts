import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifyAuditChain } from '../../src/service/audit/audit-log.js';
import { accountThrottleKey } from '../../src/service/throttle/throttle-counters.js';
import { testEngines } from '../helpers/engines.js';
import { configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { stateSnapshot } from '../helpers/state-snapshot.js';
import { createWebTestApp, type WebTestApp } from '../helpers/web-client.js';
import { passwordStep, TEST_PASSWORD } from '../helpers/web-flows.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON responses are read field by field in assertions
type Json = Record<string, any>;

/**
 * The security issue's findings 1, 2, 3 (the identity part) and 7, each as it was reported: through HTTP,
 * on both engines. Each test fails on the code before the fix (FIELD-DEFECTS.md, "Input binding";
 * OWASP API Security Top 10 2023 API3; ASVS 5.0 15.3.3).
 */
describe.each(testEngines())('issue findings through HTTP on %s', (engine) => {
  let web: WebTestApp;
  beforeAll(async () => {
    web = await createWebTestApp(engine);
    await configureRecoveryCodes(web.env);
  });
  afterAll(async () => web?.close());

  const post = async (url: string, body: unknown, token?: string) => {
    const response = await web.app.inject({
      method: 'POST',
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      payload: body as Json,
    });
    return { status: response.statusCode, json: response.body ? (JSON.parse(response.body) as Json) : {} };
  };

  /** An account made through the public sign-up, signed in over the API; optionally with TOTP and codes. */
  async function signedInAccount(label: string, options: { totp?: boolean } = {}) {
    const email = `${label}-${web.env.deps.random.uuid().slice(0, 8)}@example.test`;
    const password = `${label}-pass-phrase-${engine}`;
    expect((await post('/api/v1/auth/sign-up', { email, password })).status).toBe(202);
    const id = (await web.env.deps.store.findUserByEmail(email))?.id as string;
    const signedIn = await post('/api/v1/auth/sign-in', { email, password });
    expect(signedIn.json.stage).toBe('signed_in');
    const totp = options.totp ? await enableTotp(web.env, id) : undefined;
    return { id, email, password, token: signedIn.json.token as string, totp };
  }

  const throttleFailures = async (userId: string) => {
    const rows = await sql<{
      failures: number;
    }>`select failures from throttle_counters where key = ${accountThrottleKey(userId)}`.execute(
      web.env.opened.db,
    );
    return Number(rows.rows[0]?.failures ?? 0);
  };

  test('finding 1: roles in a public sign-up body never make an administrator', async () => {
    const email = `mallory-${engine}@example.test`;
    const answer = await post('/api/v1/auth/sign-up', {
      email,
      password: 'mallory-pass-phrase-1',
      roles: ['administrator'],
    });
    // Refused as an unknown field (strict schemas), or accepted with the field ignored: never an admin.
    expect([202, 400]).toContain(answer.status);
    const user = await web.env.deps.store.findUserByEmail(email);
    if (answer.status === 400) expect(user).toBeUndefined();
    else expect(user?.roles).toEqual(['subscriber']);
    if (!user) return;
    const client = web.client();
    const signedIn = await passwordStep(client, email, 'mallory-pass-phrase-1');
    expect(signedIn.statusCode).toBe(303);
    expect((await client.get('/admin')).statusCode).toBe(403);
    expect((await client.get('/admin/api-keys')).statusCode).toBe(403);
  });

  test('finding 2: a body userId with the attacker’s own password does not pass step-up for the session’s user', async () => {
    const victim = await signedInAccount('victim', { totp: true });
    const attacker = await signedInAccount('attacker');
    const before = await stateSnapshot(web.env);
    const victimFailures = await throttleFailures(victim.id);
    const attackerFailures = await throttleFailures(attacker.id);
    const body = { userId: attacker.id, password: attacker.password };
    const factorId = (await web.env.deps.store.listFactors(victim.id))[0]?.id as string;
    const tries = [
      await post('/api/v1/me/recovery-codes', body, victim.token),
      await post('/api/v1/me/mfa/disable', body, victim.token),
      await post(`/api/v1/me/factors/${factorId}/remove`, body, victim.token),
    ];
    for (const answer of tries) {
      expect([400, 401]).toContain(answer.status);
      expect(answer.json.error.code).toMatch(/^(step_up_failed|invalid_request|validation_failed)$/);
    }
    // Nothing of the victim's changed: codes, factors and two-factor status as they were.
    expect(await stateSnapshot(web.env)).toBe(before);
    // Each refusal that reached the step-up was checked, and charged, against the session's own account.
    const checked = tries.filter((answer) => answer.status === 401).length;
    expect(await throttleFailures(victim.id)).toBe(victimFailures + checked);
    expect(await throttleFailures(attacker.id)).toBe(attackerFailures);
  });

  test('finding 3 (identity): a body userId of any type is never the audited subject and never a 500', async () => {
    const user = await signedInAccount('typed');
    const bodies = [
      { userId: 0, password: 'x' },
      { userId: 'someone-else', password: 'x' },
      { totpCode: '123456', userId: { a: 1 } },
      { userId: [user.id], password: 'x' },
    ];
    for (const body of bodies) {
      const answer = await post('/api/v1/me/recovery-codes', body, user.token);
      expect([400, 401], JSON.stringify(body)).toContain(answer.status);
      expect(typeof answer.json.error.code).toBe('string');
      expect(typeof answer.json.error.message).toBe('string');
    }
    const events = await web.env.deps.store.listAuditEvents({ action: 'step_up_failed', limit: 100 });
    const subjects = new Set(events.map((event) => event.userId));
    expect(subjects.has('someone-else')).toBe(false);
    expect(subjects.has('0')).toBe(false);
    expect([...subjects].every((subject) => typeof subject === 'string')).toBe(true);
    expect((await verifyAuditChain(web.env.deps.store)).ok).toBe(true);
  });

  test('finding 7: sign-up answers the same for a taken address; no second account; the owner is emailed', async () => {
    const owner = await signedInAccount('owner');
    const ownerBefore = await web.env.deps.store.findUserByEmail(owner.email);
    const sent = web.env.smtp.messages.length;
    const taken = await post('/api/v1/auth/sign-up', {
      email: owner.email.toUpperCase(),
      password: 'a-different-pass-phrase',
    });
    const fresh = await post('/api/v1/auth/sign-up', {
      email: `fresh-${engine}@example.test`,
      password: 'a-different-pass-phrase',
    });
    expect(taken.status).toBe(202);
    expect(taken).toEqual(fresh);
    expect(taken.json).not.toHaveProperty('userId');
    expect(await web.env.deps.store.findUserByEmail(owner.email)).toEqual(ownerBefore);
    // The owner's own password still works; the one typed at sign-up does not.
    expect(
      (await post('/api/v1/auth/sign-in', { email: owner.email, password: owner.password })).status,
    ).toBe(200);
    expect(
      (await post('/api/v1/auth/sign-in', { email: owner.email, password: 'a-different-pass-phrase' }))
        .status,
    ).toBe(401);
    await expect.poll(() => web.env.smtp.messages.length).toBeGreaterThan(sent);
    const notice = web.env.smtp.messages.slice(sent).find((message) => message.to.includes(owner.email));
    expect(notice?.subject).toMatch(/tried to create/);
    // Only the owner of the taken address is written to: the new address gets nothing.
    expect(web.env.smtp.messages.slice(sent).every((message) => message.to.includes(owner.email))).toBe(true);
  });
});

describe.each(testEngines())(
  'finding 1: a new install waits for its setup link on every edge (%s)',
  (engine) => {
    const setupToken = 'S'.repeat(43);
    let web: WebTestApp;
    beforeAll(async () => {
      web = await createWebTestApp(engine, { setupToken });
    });
    afterAll(async () => web?.close());

    test('JSON sign-up answers 409 site_not_set_up until the operator has used the link; then it is open', async () => {
      const early = await web.app.inject({
        method: 'POST',
        url: '/api/v1/auth/sign-up',
        payload: { email: 'first@example.test', password: TEST_PASSWORD, roles: ['administrator'] },
      });
      expect([400, 409]).toContain(early.statusCode);
      if (early.statusCode === 409) expect(early.json().error.code).toBe('site_not_set_up');
      const plain = await web.app.inject({
        method: 'POST',
        url: '/api/v1/auth/sign-up',
        payload: { email: 'first@example.test', password: TEST_PASSWORD },
      });
      expect(plain.statusCode).toBe(409);
      expect(plain.json().error.code).toBe('site_not_set_up');
      expect(await web.env.deps.store.countUsers()).toBe(0);
      // The operator's link still works, and makes the administrator.
      const operator = web.client();
      expect((await operator.get(`/setup?token=${setupToken}`)).statusCode).toBe(200);
      const created = await operator.post('/setup', {
        token: setupToken,
        email: 'operator@example.test',
        password: TEST_PASSWORD,
      });
      expect(created.statusCode).toBe(303);
      expect((await web.env.deps.store.findUserByEmail('operator@example.test'))?.roles).toEqual([
        'administrator',
      ]);
      const later = await web.app.inject({
        method: 'POST',
        url: '/api/v1/auth/sign-up',
        payload: { email: 'later@example.test', password: TEST_PASSWORD },
      });
      expect(later.statusCode).toBe(202);
      expect((await web.env.deps.store.findUserByEmail('later@example.test'))?.roles).toEqual(['subscriber']);
    });
  },
);
