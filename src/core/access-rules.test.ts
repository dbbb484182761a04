import { describe, expect, test } from 'vitest';
import { type AccessPolicy, matchAccessRule, parseAccessRules } from './access-rules.js';

function rules(document: unknown) {
  const parsed = parseAccessRules(document);
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  return { rules: parsed.rules, defaultPolicy: (parsed.defaultPolicy ?? 'deny') as AccessPolicy };
}

const set = rules({
  defaultPolicy: 'deny',
  rules: [
    {
      name: 'health',
      hosts: ['app.example.com'],
      pathPrefix: '/health',
      methods: ['GET'],
      policy: 'one_factor',
    },
    {
      name: 'admin-api',
      hosts: ['*.example.com'],
      pathRegex: '^/api/admin(/|$)',
      roles: ['ops'],
      policy: 'two_factor',
    },
    { name: 'no-admin-api', hosts: ['*.example.com'], pathRegex: '^/api/admin(/|$)', policy: 'deny' },
    { name: 'app', hosts: ['app.example.com', 'wiki.example.com'], policy: 'two_factor' },
  ],
});

describe('access rules: first match in order', () => {
  test.each([
    [
      'GET app.example.com/health',
      { host: 'app.example.com', path: '/health/live', method: 'GET' },
      [],
      'health',
    ],
    [
      'POST to /health falls through to app',
      { host: 'APP.example.com', path: '/health', method: 'post' },
      [],
      'app',
    ],
    [
      'ops on the admin API',
      { host: 'app.example.com', path: '/api/admin/x', method: 'GET' },
      ['ops'],
      'admin-api',
    ],
    [
      'others on the admin API',
      { host: 'app.example.com', path: '/api/admin', method: 'GET' },
      ['viewer'],
      'no-admin-api',
    ],
    [
      'regex is not a prefix',
      { host: 'app.example.com', path: '/api/administrator', method: 'GET' },
      [],
      'app',
    ],
    ['wiki', { host: 'wiki.example.com', path: '/', method: 'GET' }, [], 'app'],
  ])('%s', (_name, request, roles, expected) => {
    const match = matchAccessRule(set, request, roles);
    expect(match).toMatchObject({ kind: 'policy', rule: expected });
  });

  test('a wildcard host covers subdomains at any depth, not the domain itself', () => {
    const wildcard = rules({ rules: [{ name: 'w', hosts: ['*.example.com'], policy: 'one_factor' }] });
    expect(matchAccessRule(wildcard, { host: 'a.b.example.com', path: '/', method: 'GET' }, []).kind).toBe(
      'policy',
    );
    expect(
      matchAccessRule(wildcard, { host: 'a.b.example.com', path: '/', method: 'GET' }, []),
    ).toMatchObject({ rule: 'w' });
    expect(matchAccessRule(wildcard, { host: 'example.com', path: '/', method: 'GET' }, [])).toMatchObject({
      rule: undefined,
    });
    expect(
      matchAccessRule(wildcard, { host: 'evilexample.com', path: '/', method: 'GET' }, []),
    ).toMatchObject({ rule: undefined });
  });

  test('no match: the default policy', () => {
    expect(matchAccessRule(set, { host: 'other.test', path: '/', method: 'GET' }, [])).toEqual({
      kind: 'policy',
      policy: 'deny',
      rule: undefined,
    });
  });

  test('a rule limited to roles needs to know who is asking: anonymous requests must sign in first', () => {
    expect(
      matchAccessRule(set, { host: 'app.example.com', path: '/api/admin', method: 'GET' }, undefined),
    ).toEqual({
      kind: 'identity_needed',
      rule: 'admin-api',
    });
  });
});

describe('access rules: malformed rules are refused, naming the rule', () => {
  test.each([
    [
      { rules: [{ name: 'bad-regex', hosts: ['a.example.com'], pathRegex: '(', policy: 'deny' }] },
      'Rule 1 ("bad-regex"): "pathRegex" is not a valid regular expression',
    ],
    [
      {
        rules: [
          { name: 'ok', hosts: ['a.example.com'], policy: 'deny' },
          { name: 'bad-policy', hosts: ['a.example.com'], policy: 'allow' },
        ],
      },
      'Rule 2 ("bad-policy"): "policy" must be one of deny, one_factor, two_factor',
    ],
    [
      { rules: [{ name: 'bad-host', hosts: ['https://a.example.com'], policy: 'deny' }] },
      'Rule 1 ("bad-host"): "https://a.example.com" is not a host name',
    ],
    [
      { rules: [{ name: 'mid-wildcard', hosts: ['a.*.example.com'], policy: 'deny' }] },
      'Rule 1 ("mid-wildcard"): "a.*.example.com" is not a host name',
    ],
    [
      { rules: [{ name: 'no-hosts', hosts: [], policy: 'deny' }] },
      'Rule 1 ("no-hosts"): "hosts" must be a non-empty list',
    ],
    [
      { rules: [{ name: 'prefix', hosts: ['a.example.com'], pathPrefix: 'admin', policy: 'deny' }] },
      'Rule 1 ("prefix"): "pathPrefix" must be a path starting with /',
    ],
    [
      {
        rules: [
          { name: 'both', hosts: ['a.example.com'], pathPrefix: '/a', pathRegex: '^/a', policy: 'deny' },
        ],
      },
      'Rule 1 ("both"): give "pathPrefix" or "pathRegex", not both',
    ],
    [
      { rules: [{ name: 'verb', hosts: ['a.example.com'], methods: ['FETCH'], policy: 'deny' }] },
      'Rule 1 ("verb"): "methods" must be a non-empty list',
    ],
    [
      { rules: [{ name: 'roles', hosts: ['a.example.com'], roles: ['Ops Team'], policy: 'deny' }] },
      'Rule 1 ("roles"): "roles" must be a non-empty list of role names',
    ],
    [
      { rules: [{ name: 'extra', hosts: ['a.example.com'], policy: 'deny', allow: true }] },
      'Rule 1 ("extra"): unknown field "allow"',
    ],
    [{ rules: [{ hosts: ['a.example.com'], policy: 'deny' }] }, 'Rule 1: needs a "name"'],
    [
      {
        rules: [
          { name: 'twice', hosts: ['a.example.com'], policy: 'deny' },
          { name: 'twice', hosts: ['b.example.com'], policy: 'deny' },
        ],
      },
      'Rule 2 ("twice"): another rule has the same name',
    ],
    [{ rules: [], defaultPolicy: 'allow' }, 'defaultPolicy must be one of deny, one_factor, two_factor'],
    [{ rule: [] }, 'Unknown field "rule"'],
  ])('%j', (document, problem) => {
    const parsed = parseAccessRules(document);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.problems.join('\n')).toContain(problem);
  });
});
