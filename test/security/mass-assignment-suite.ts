import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../../src/build-server.js';
import { DEFAULT_RECOVERY_CODE_SETTINGS } from '../../src/core/policy.js';
import { updateRecoveryCodeSettings } from '../../src/service/admin/settings.js';
import { createTestEnvironment, type TestEnvironment } from '../helpers/service-deps.js';
import { TEST_PASSWORD } from '../helpers/web-flows.js';
import { MATRIX } from './authorization-table.js';
import {
  bodyFor,
  concreteUrl,
  createWorld,
  credentials,
  csrfFor,
  fillBody,
  PRINCIPALS,
  type Principal,
  type World,
} from './authorization-world.js';
import { currentEnvironmentDeps } from './current-environment-deps.js';
import { type RoutePart, routePartOf } from './route-parts.js';
import { changeBetween, type StateChange, stateOf } from './state-change.js';

/**
 * Mass assignment (the security issue's class; OWASP API Security Top 10 2023 API3; ASVS 5.0 15.3.3):
 * for every route of the authorization matrix, an ACCEPTED request (by a caller the matrix allows) is
 * repeated with each privileged or identity field added, in the body (JSON or form) and in the query
 * string. Each repetition is either refused with 400 (in the error shape, changing nothing) or changes
 * exactly what the request without the field changes (test/security/state-change.ts compares every table
 * of the state snapshot, with each world's own ids named by role). A field the route documents (say
 * `roles` on POST /api/v1/users, `email` on sign-in) is the route's own input, not an extra, and is skipped.
 * One file per part of the routes (route-parts.ts: mass-assignment.test.ts, mass-assignment-api.test.ts,
 * mass-assignment-account-pages.test.ts), so the parts run in parallel; together they cover every route.
 */

/** Each extra field, as JSON and as a form or query value; ids name the OTHER user, roles the administrator. */
function extras(world: World): Record<string, { json: unknown; text: string }> {
  return {
    roles: { json: ['administrator'], text: 'administrator' },
    role: { json: 'administrator', text: 'administrator' },
    userId: { json: world.other.id, text: world.other.id },
    actorId: { json: world.admin.id, text: world.admin.id },
    id: { json: world.other.id, text: world.other.id },
    user: { json: { id: world.other.id, roles: ['administrator'] }, text: world.other.id },
    email: { json: world.other.email, text: world.other.email },
    enabled: { json: true, text: 'on' },
    scopes: { json: ['admin'], text: 'admin' },
    mfaEnabled: { json: false, text: 'false' },
    policy: { json: 'disable_mfa', text: 'disable_mfa' },
    stage: { json: 'signed_in', text: 'signed_in' },
    ['__proto__']: { json: { roles: ['administrator'], isAdmin: true }, text: 'administrator' },
    constructor: { json: { prototype: { roles: ['administrator'] } }, text: 'administrator' },
  };
}

/** Form and query fields the pages read on purpose (the API's come from its OpenAPI document). */
const FORM_FIELDS: Record<string, string[]> = {
  'GET /admin/users': ['id'],
  'GET /admin/accounts': ['email'],
  'POST /sign-in': ['email'],
  'POST /sign-up': ['email'],
  'POST /setup': ['email'],
  'POST /forgot-password': ['email'],
  'POST /admin/settings': ['enabled', 'policy'],
  'POST /admin/users/:userId/roles': ['roles'],
  'POST /admin/api-keys': ['scopes'],
  'POST /admin/applications': [
    'name',
    'redirectUris',
    'postLogoutRedirectUris',
    'kind',
    'firstParty',
    'twoFactorRequired',
    'scopes',
  ],
};

/** Bodies that the matrix's minimal ones leave refused, made acceptable (':fresh…' differs per run). */
const ACCEPTED_BODIES: Record<string, Record<string, unknown>> = {
  'POST /api/v1/auth/sign-up': { email: ':fresh-email', password: TEST_PASSWORD },
  'POST /sign-up': { email: ':fresh-email', password: TEST_PASSWORD },
  'POST /api/v1/users': { email: ':fresh-email', password: TEST_PASSWORD },
  'POST /api/v1/api-keys': { name: ':fresh-name', scopes: ['audit:read'] },
  'POST /admin/api-keys': { name: ':fresh-name', scopes: 'audit:read' },
  'POST /admin/applications': {
    name: ':fresh-name',
    redirectUris: 'https://app.example.test/callback',
    scopes: 'openid',
  },
  'POST /admin/roles': { name: ':fresh-name' },
  'PATCH /api/v1/settings': { lowThreshold: 2 },
  'POST /api/v1/applications': {
    name: ':fresh-name',
    redirectUris: ['https://app.example.test/callback'],
    kind: 'confidential',
    scopes: ['openid'],
  },
  'PUT /api/v1/applications/:clientId': {
    name: ':fresh-name',
    redirectUris: ['https://app.example.test/callback'],
    scopes: ['openid', 'email'],
  },
  'POST /api/v1/me/password': { currentPassword: TEST_PASSWORD, newPassword: 'a-new-pass-phrase-71' },
  'POST /settings/password': { currentPassword: TEST_PASSWORD, newPassword: 'a-new-pass-phrase-71' },
  'POST /forgot-password': { email: ':email' },
  'POST /api/v1/users/:userId/mfa/reset': { reason: 'mass assignment test' },
  'POST /admin/users/:userId/reset': { reason: 'mass assignment test' },
};

/** The parts of the OpenAPI document that name an operation's own fields. */
interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
        parameters?: { name: string }[];
      }
    >
  >;
}

/** The caller: anonymous where the public may call, else the victim's session, then the others. */
const PREFERENCE: readonly Principal[] = [
  'anonymous',
  'user',
  'pending',
  'admin',
  'key:admin',
  ...PRINCIPALS,
];

function callerFor(route: string): Principal | undefined {
  const cells = (MATRIX[route] ?? '').split(' ');
  const allowed = (outcome: string) => PREFERENCE.find((p) => cells[PRINCIPALS.indexOf(p)] === outcome);
  return allowed('A') ?? allowed('N');
}

export function defineMassAssignmentSuite(part: RoutePart): void {
  describe(`mass assignment: accepted requests with privileged or identity fields added (${part})`, () => {
    let env: TestEnvironment;
    let app: Awaited<ReturnType<typeof buildServer>>;
    /** The documented body and query fields of each API operation, by `METHOD /path/:param`. */
    const documented = new Map<string, Set<string>>();
    beforeAll(async () => {
      env = await createTestEnvironment('sqlite');
      app = await buildServer({ deps: currentEnvironmentDeps(() => env) });
      await app.ready();
      const spec = (await app.inject({ url: '/openapi.json' })).json() as OpenApiDocument;
      for (const [path, operations] of Object.entries(spec.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          const names = new Set<string>();
          const body = operation.requestBody?.content?.['application/json']?.schema;
          for (const name of Object.keys(body?.properties ?? {})) names.add(name);
          for (const parameter of operation.parameters ?? []) names.add(parameter.name);
          documented.set(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`, names);
        }
      }
    }, 60_000);
    afterAll(async () => {
      await app?.close();
      await env?.close();
    });

    /**
     * Each route gets a database of its own, so the state read before and after each request stays small.
     * The app stays: it reads the current environment's deps at each use (current-environment-deps.ts).
     */
    async function freshDatabase() {
      const previous = env;
      env = await createTestEnvironment('sqlite');
      await previous?.close();
    }

    let runs = 0;

    /** One request in a fresh world; what it answered and what it changed. */
    async function run(
      route: string,
      caller: Principal,
      added: { where: 'body' | 'query'; fields: [string, { json: unknown; text: string }][] } | undefined,
      world: World,
    ) {
      const [method, template] = route.split(' ') as [string, string];
      const run = ++runs;
      const fresh = { ':fresh-email': `fresh-${run}@mass.test`, ':fresh-name': `mass-${run}` };
      const remoteAddress = `10.77.${Math.floor(run / 250) % 250}.${(run % 250) + 1}`;
      const named = {
        [fresh[':fresh-email']]: '<fresh-email>',
        [fresh[':fresh-name']]: '<fresh-name>',
        [`"${remoteAddress}"`]: '"<ip>"',
      };
      const base = Object.fromEntries(
        Object.entries(ACCEPTED_BODIES[route] ?? bodyFor(method, template) ?? {}).map(([name, value]) => [
          name,
          typeof value === 'string'
            ? (fresh[value as keyof typeof fresh] ?? fillBody({ v: value }, world).v)
            : value,
        ]),
      );
      const hasBody = method !== 'GET' && method !== 'DELETE';
      const headers: Record<string, string> = credentials(caller, world);
      const query = new URLSearchParams();
      if (added?.where === 'query') for (const [name, value] of added.fields) query.append(name, value.text);
      const url = concreteUrl(template, world) + (query.size > 0 ? `?${query}` : '');
      const inBody = added?.where === 'body' ? added.fields : [];
      const before = await stateOf(env);
      let response: LightMyRequestResponse;
      if (!hasBody) {
        response = await app.inject({ method: method as 'GET', url, headers, remoteAddress });
      } else if (template.startsWith('/api/')) {
        // Written by hand so that `__proto__` is a key of the JSON text, as an attacker would send it.
        const members = [
          ...Object.entries(base),
          ...inBody.map(([name, value]) => [name, value.json] as const),
        ];
        const payload = `{${members.map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`).join(',')}}`;
        response = await app.inject({
          method: method as 'POST',
          url,
          headers: { ...headers, 'content-type': 'application/json' },
          payload,
          remoteAddress,
        });
      } else {
        const csrf = await csrfFor(app, headers);
        const form = new URLSearchParams();
        for (const [name, value] of Object.entries(base)) form.append(name, String(value));
        for (const [name, value] of inBody) form.append(name, value.text);
        form.append('_csrf', csrf.token);
        response = await app.inject({
          method: 'POST',
          url,
          headers: {
            ...headers,
            cookie: [headers.cookie, csrf.cookie].filter(Boolean).join('; '),
            'content-type': 'application/x-www-form-urlencoded',
          },
          payload: form.toString(),
          remoteAddress,
        });
      }
      const change = changeBetween(before, await stateOf(env), world, named);
      return { status: response.statusCode, response, change };
    }

    /** Settings are one row for everyone: each run starts from the same ones. */
    async function resetSettings() {
      const reset = await updateRecoveryCodeSettings(
        env.deps,
        { ...DEFAULT_RECOVERY_CODE_SETTINGS, enabled: true },
        {},
      );
      if (!reset.ok) throw new Error('settings');
    }

    async function freshWorld() {
      await resetSettings();
      return createWorld(env);
    }

    function expectRefusal(
      label: string,
      outcome: { response: LightMyRequestResponse; change: StateChange },
    ) {
      if (String(outcome.response.headers['content-type']).includes('json')) {
        const error = outcome.response.json().error;
        expect(typeof error?.code, `${label}: error shape`).toBe('string');
        expect(typeof error?.message, `${label}: error shape`).toBe('string');
      }
      expect(outcome.change, `${label}: a refusal changes nothing`).toEqual([]);
    }

    const allRoutes = Object.keys(MATRIX).filter((route) => callerFor(route) !== undefined);
    const routes = allRoutes.filter((route) => routePartOf(route) === part);

    // Left out: the closed first-run setup, and the OpenID Connect interaction pages, which need an
    // interaction an application started (their inputs are covered by test/oidc/*.browser.test.ts).
    test.runIf(part === 'public-pages')(
      'every route of the matrix but the closed first-run setup and the OIDC interactions has a caller it accepts',
      () => {
        expect(Object.keys(MATRIX).filter((route) => !allRoutes.includes(route))).toEqual([
          'GET /oidc/interaction/:uid',
          'POST /oidc/interaction/:uid/consent',
          'GET /setup',
          'POST /setup',
        ]);
      },
    );

    test.each(routes)(
      '%s',
      async (route) => {
        const caller = callerFor(route) as Principal;
        const [method] = route.split(' ') as [string];
        await freshDatabase();
        const baseline = await run(route, caller, undefined, await freshWorld());
        expect(baseline.status, `${route} as ${caller}: the baseline answered`).toBeLessThan(500);
        const ownFields = route.includes(' /api/')
          ? (documented.get(route) ?? new Set())
          : new Set(FORM_FIELDS[route] ?? []);
        const wheres =
          method === 'GET' || method === 'DELETE' ? (['query'] as const) : (['body', 'query'] as const);
        for (const where of wheres) {
          let world = await freshWorld();
          const fields = Object.entries(extras(world)).filter(([name]) => !ownFields.has(name));
          const all = await run(route, caller, { where, fields }, world);
          if (all.status !== 400) {
            expect(all.change, `${route}: all extras in the ${where} changed something else`).toEqual(
              baseline.change,
            );
            expect(all.status, `${route}: all extras in the ${where}`).toBe(baseline.status);
            continue;
          }
          expectRefusal(`${route} with all extras in the ${where}`, all);
          // Refused together: each alone must be refused too, or change only what the request itself changes.
          for (const field of fields) {
            const [name] = field;
            const one = await run(
              route,
              caller,
              { where, fields: [[name, extras(world)[name] as never]] },
              world,
            );
            if (one.status === 400) {
              expectRefusal(`${route} with ${name} in the ${where}`, one);
              continue;
            }
            expect(one.change, `${route} with ${name} in the ${where}`).toEqual(baseline.change);
            expect(one.status, `${route} with ${name} in the ${where}`).toBe(baseline.status);
            world = await freshWorld();
          }
        }
      },
      60_000,
    );
  });
}
