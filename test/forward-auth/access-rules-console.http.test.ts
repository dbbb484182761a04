import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testEngines } from '../helpers/engines.js';
import type { FormClient } from '../helpers/web-client.js';
import { alertText } from '../helpers/web-client.js';
import { signUpThroughPages } from '../helpers/web-flows.js';
import { type ForwardAuthWorld, startForwardAuthWorld } from './forward-auth-world.js';

describe.each(testEngines())('on %s', (engine) => {
  let world: ForwardAuthWorld;
  let admin: FormClient;
  let adminId: string;
  let person: FormClient;

  beforeAll(async () => {
    world = await startForwardAuthWorld(engine);
    admin = world.client();
    await signUpThroughPages(admin, 'rules-admin@example.test');
    adminId = (await world.env.deps.store.findUserByEmail('rules-admin@example.test'))?.id as string;
    await world.env.deps.store.setUserRoles(adminId, ['administrator']);
    person = world.client();
    await signUpThroughPages(person, 'rules-person@example.test');
  });
  afterAll(async () => world?.close());

  const WIKI = 'https://wiki.example.com/page';
  const changes = () => world.env.deps.store.listAuditEvents({ action: 'access_rules_changed', limit: 10 });

  async function save(document: unknown) {
    await admin.get('/admin/access-rules');
    return admin.post('/admin/access-rules', {
      document: typeof document === 'string' ? document : JSON.stringify(document),
    });
  }

  describe('Administration → Access rules', () => {
    test('administrators only', async () => {
      expect((await person.get('/admin/access-rules')).statusCode).toBe(403);
      await person.get('/settings/two-factor');
      const posted = await person.post('/admin/access-rules', { document: '{"rules":[]}' });
      expect(posted.statusCode).toBe(403);
      expect(await changes()).toEqual([]);
    });

    test("shows the configuration file's rules in order and the default policy", async () => {
      const page = await admin.get('/admin/access-rules');
      expect(page.statusCode).toBe(200);
      const names = [...page.body.matchAll(/<tr><td>\d+<\/td><td><code>([^<]+)<\/code>/g)].map((m) => m[1]);
      expect(names).toEqual(['blocked', 'ops-only', 'app', 'secure']);
      expect(page.body).toContain('<code id="default-policy">deny</code>');
    });

    test.each([
      [
        { rules: [{ name: 'wiki', hosts: ['wiki.example.com'], pathRegex: '(', policy: 'one_factor' }] },
        'Rule 1 ("wiki"): "pathRegex" is not a valid regular expression',
      ],
      [
        { rules: [{ name: 'wiki', hosts: ['wiki.example.com'], policy: 'allow' }] },
        'Rule 1 ("wiki"): "policy" must be one of deny, one_factor, two_factor',
      ],
      [
        { rules: [{ name: 'app', hosts: ['wiki.example.com'], policy: 'one_factor' }] },
        'Rule "app": a rule of the configuration file has that name.',
      ],
      ['{"rules": [', 'Not JSON'],
    ])(
      'a malformed document is refused, naming the rule, and nothing changes: %j',
      async (document, problem) => {
        const refused = await save(document);
        expect(refused.statusCode).toBe(400);
        expect(refused.body).toContain(problem.replaceAll('"', '&quot;'));
        expect(refused.body).toContain('Nothing was changed');
        expect(await changes()).toEqual([]);
        expect((await world.verify(person, WIKI)).statusCode).toBe(403);
      },
    );

    test('a saved change applies to the next request and is audited with the rules before and after', async () => {
      const document = {
        defaultPolicy: 'deny',
        rules: [{ name: 'wiki', hosts: ['wiki.example.com'], methods: ['GET'], policy: 'one_factor' }],
      };
      const saved = await save(document);
      expect(saved.statusCode).toBe(303);
      expect(saved.headers.location).toBe('/admin/access-rules?notice=access-rules-saved');
      expect((await world.verify(person, WIKI)).statusCode).toBe(200);
      expect((await world.verify(person, WIKI, { method: 'POST' })).statusCode).toBe(403);
      const [event] = await changes();
      expect(event).toMatchObject({ actorId: adminId, outcome: 'success' });
      expect(JSON.parse(String(event?.details.before))).toEqual({ rules: [] });
      expect(JSON.parse(String(event?.details.after))).toEqual(document);
      const page = await admin.get('/admin/access-rules');
      expect(page.body).toContain('<code>wiki</code>');
      expect(page.body).toContain('<code id="default-policy">deny</code>');
    });

    test('"test a URL as a user": the verdict and the rule that gives it, without auditing anything', async () => {
      const before = (await world.env.deps.store.listAuditEvents({ limit: 500 })).length;
      const ask = async (url: string, email: string, method = 'GET') => {
        const page = await admin.get(
          `/admin/access-rules?test_url=${encodeURIComponent(url)}&test_method=${method}&test_email=${encodeURIComponent(email)}`,
        );
        const result = page.body.match(/id="access-test-result">([\s\S]*?)<\/div>/)?.[1] ?? '';
        return result.replace(/<[^>]+>/g, '');
      };
      expect(await ask('https://app.example.com/blocked/x', 'rules-person@example.test')).toMatch(
        /Denied \(403\)\..*decided by rule blocked/s,
      );
      expect(await ask('https://app.example.com/', 'rules-person@example.test')).toMatch(
        /Allowed.*decided by rule app \(one_factor\)/s,
      );
      expect(await ask('https://secure.example.com/', 'rules-person@example.test')).toMatch(
        /set up a second factor.*rule secure/s,
      );
      expect(await ask('https://app.example.com/', '')).toMatch(
        /Sent to sign in first.*someone not signed in/s,
      );
      expect(await ask('https://other.example.com/', 'rules-person@example.test')).toMatch(
        /Denied.*the default policy/s,
      );
      expect(await ask('https://evil.test/', 'rules-person@example.test')).toMatch(
        /not under the cookie domain/,
      );
      expect(await ask('https://app.example.com/', 'nobody@example.test')).toContain(
        'That account was not found.',
      );
      expect((await world.env.deps.store.listAuditEvents({ limit: 500 })).length).toBe(before);
    });

    test("the problems are shown in the page's alert", async () => {
      const refused = await save({ rules: [{ name: 'x', hosts: [], policy: 'deny' }] });
      expect(alertText(refused.body)).toContain('Those access rules cannot be saved');
    });
  });
});
