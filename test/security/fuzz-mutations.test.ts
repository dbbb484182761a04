import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { verifyAuditChain } from '../../src/service/audit/audit-log.js';
import { TEST_PASSWORD } from '../helpers/web-flows.js';
import { reportStressRow } from '../scale/stress-report.js';
import {
  bodyFor,
  concreteUrl,
  createWorld,
  credentials,
  csrfFor,
  fillBody,
  useAppWithRoutes,
  type World,
} from './authorization-world.js';
import { callerFor, FIELDS, hostileString, hostileValue, problemWith } from './fuzz-inputs.js';

/**
 * Issue 18, "Fuzz": the hostile-input suite (fuzz.test.ts) sends requests that are refused; this one
 * starts from requests that are ACCEPTED (or reach the use case) and changes one thing: a field's type,
 * or fields added (every identity and privileged field name the API knows, `__proto__` and
 * `constructor` included), in the body, the form or the query. Every answer is below 500 and every 4xx
 * is in the error shape. Afterwards the audit chain still verifies and no end-user or anonymous request
 * made anyone an administrator. FUZZ_MUTATIONS sets the requests per route; `npm run stress` sends
 * 20,000 or more (FUZZ_MIN_REQUESTS).
 */
const MUTATIONS = Number(process.env.FUZZ_MUTATIONS ?? 6);
const MIN_REQUESTS = Number(process.env.FUZZ_MIN_REQUESTS ?? 0);
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);

/** Where bodyFor (the authorization matrix's bodies) has no fields, a body the route accepts. */
function acceptedBody(
  method: string,
  template: string,
  world: World,
  unique: string,
): Record<string, unknown> {
  const fresh = () => `fuzz-${unique}@example.test`;
  const accepted: Record<string, Record<string, unknown>> = {
    'POST /api/v1/auth/sign-up': { email: fresh(), password: TEST_PASSWORD },
    'POST /api/v1/users': { email: fresh(), password: TEST_PASSWORD },
    'PATCH /api/v1/settings': { lowThreshold: 2, format: { groupSize: 5 } },
    'POST /api/v1/api-keys': { name: 'fuzz', scopes: ['audit:read'] },
    'POST /api/v1/applications': {
      name: 'fuzz',
      redirectUris: ['https://app.example.test/callback'],
      kind: 'public',
      scopes: ['openid'],
    },
    'PUT /api/v1/applications/:clientId': {
      name: 'fuzz',
      redirectUris: ['https://app.example.test/callback'],
      scopes: ['openid'],
    },
    'POST /api/v1/users/:userId/mfa/reset': { reason: 'fuzz' },
    'POST /api/v1/users/:userId/recovery-codes/verify': { code: 'K-7Q2MX-9HD4T' },
    'POST /api/v1/users/:userId/factors/totp/verify': { code: '123456' },
    'POST /api/v1/auth/second-factor/totp': { code: '123456' },
    'POST /api/v1/auth/second-factor/email': { code: '123456' },
    'POST /api/v1/auth/second-factor/recovery-code': { code: 'K-7Q2MX-9HD4T' },
    'POST /api/v1/me/password': { currentPassword: TEST_PASSWORD, newPassword: `${TEST_PASSWORD} and more` },
  };
  return accepted[`${method} ${template}`] ?? fillBody(bodyFor(method, template) ?? {}, world);
}

/** One change to an accepted request. */
type Mutation =
  | { kind: 'retype'; pick: number; value: unknown }
  | { kind: 'add'; fields: Record<string, unknown> }
  | { kind: 'addText'; fields: [string, string][] };

const NOT_A_STRING = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(fc.constantFrom(...FIELDS), hostileValue, { maxKeys: 2 }),
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('retype' as const), pick: fc.nat(), value: NOT_A_STRING }),
  fc.record({
    kind: fc.constant('add' as const),
    fields: fc.dictionary(fc.constantFrom(...FIELDS), hostileValue, { minKeys: 1, maxKeys: 3 }),
  }),
  fc.record({
    kind: fc.constant('addText' as const),
    fields: fc.array(fc.tuple(fc.constantFrom(...FIELDS), hostileString), { minLength: 1, maxLength: 3 }),
  }),
);

/** The accepted body with the mutation applied (JSON may change types; a form carries text only). */
function mutated(base: Record<string, unknown>, change: Mutation): Record<string, unknown> {
  const body = { ...base };
  if (change.kind === 'retype') {
    const keys = Object.keys(body);
    const key = keys.length > 0 ? keys[change.pick % keys.length]! : FIELDS[change.pick % FIELDS.length]!;
    body[key] = change.value;
    return body;
  }
  const added = change.kind === 'add' ? Object.entries(change.fields) : change.fields;
  for (const [name, value] of added)
    Object.defineProperty(body, name, { value, enumerable: true, writable: true, configurable: true });
  return body;
}

/** A form's fields: text as is, anything else as its JSON text, lists as repeated fields. */
function formOf(body: Record<string, unknown>): URLSearchParams {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    for (const item of Array.isArray(value) ? value : [value])
      form.append(name, typeof item === 'string' ? item : (JSON.stringify(item) ?? ''));
  }
  return form;
}

describe('fuzzing accepted requests with one change (issue 18)', () => {
  const setup = useAppWithRoutes();
  /** A world's CSRF token and cookie, read once (they are bound to its session, which outlives the route). */
  const csrfTokens = new Map<World, { token: string; cookie: string }>();

  async function send(method: string, template: string, world: World, change: Mutation) {
    const headers = credentials(callerFor(template), world);
    const unique = setup.env.deps.random.uuid().slice(0, 12);
    const body = mutated(acceptedBody(method, template, world, unique), change);
    const url = concreteUrl(template, world);
    if (method === 'GET' || method === 'DELETE') {
      const query = formOf(body).toString();
      return setup.app.inject({ method: method as 'GET', url: query ? `${url}?${query}` : url, headers });
    }
    if (template.startsWith('/api/')) {
      return setup.app.inject({
        method: method as 'POST',
        url,
        headers: { ...headers, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    }
    // Pages: the form as a browser sends it, with a valid CSRF token, so the change reaches the route.
    const csrf = csrfTokens.get(world) ?? (await csrfFor(setup.app, headers));
    csrfTokens.set(world, csrf);
    const form = formOf(body);
    form.set('_csrf', csrf.token);
    return setup.app.inject({
      method: method as 'POST',
      url,
      headers: {
        ...headers,
        cookie: [headers.cookie, csrf.cookie].filter(Boolean).join('; '),
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: form.toString(),
    });
  }

  const administrators = async () =>
    (await setup.env.deps.store.listUsers({ limit: 1_000_000 })).filter((user) =>
      user.roles.includes('administrator'),
    ).length;

  test(
    'no 5xx, every 4xx in the error shape; the audit chain verifies and no administrator appears',
    async () => {
      const problems: string[] = [];
      let requests = 0;
      let accepted = 0;
      let serverErrors = 0;
      const routes = setup.routes.filter(
        ({ url }) => !url.startsWith('/docs') && !url.startsWith('/assets') && url !== '/openapi.json',
      );
      // End-user and anonymous routes first: none of them may make an administrator. (An administrator's
      // own routes may, by design; they run after the count.)
      const byAdmin = (url: string) => ['admin', 'key:admin'].includes(callerFor(url));
      const ordered = [
        ...routes.filter(({ url }) => !byAdmin(url)),
        ...routes.filter(({ url }) => byAdmin(url)),
      ];
      let administratorsExpected = await administrators();
      let counted = false;
      for (const { method, url: template } of ordered) {
        if (!counted && byAdmin(template)) {
          counted = true;
          expect(await administrators(), 'administrators after the end-user routes').toBe(
            administratorsExpected,
          );
        }
        // A fresh world per route (it adds one administrator of its own): earlier routes may have spent its
        // sessions or factors.
        let world = await createWorld(setup.env);
        administratorsExpected++;
        await fc.assert(
          fc.asyncProperty(mutation, async (change) => {
            const response = await send(method, template, world, change);
            requests++;
            if (response.statusCode >= 500) serverErrors++;
            else if (response.statusCode < 400) accepted++;
            const problem = problemWith(response, template);
            if (problem)
              problems.push(`${method} ${template} ${JSON.stringify(change).slice(0, 160)}: ${problem}`);
            // Sign-out and the second steps end or rotate the session: carry on with a fresh one.
            if (response.statusCode < 400 && /sign-out|second-factor|password/.test(template)) {
              world = await createWorld(setup.env);
              administratorsExpected++;
            }
          }),
          { numRuns: MUTATIONS, seed: SEED },
        );
      }
      const chain = await verifyAuditChain(setup.env.deps.store);
      reportStressRow({
        suite: 'fuzz: accepted requests with one change',
        file: import.meta.url,
        attempts: requests,
        accepted,
        acceptedLabel: 'answered below 400',
        doubleAccepts: 0,
        lostEvents: null,
        serverErrors,
      });
      expect(problems.slice(0, 20)).toEqual([]);
      expect(chain).toMatchObject({ ok: true });
      console.log(`fuzz mutations: ${requests} requests, ${accepted} below 400, ${serverErrors} 5xx`);
      expect(requests).toBeGreaterThanOrEqual(Math.max(MIN_REQUESTS, 70 * MUTATIONS));
      // Something got through: the mutations start from accepted requests, not from refusals.
      expect(accepted).toBeGreaterThan(0);
    },
    // About 105 requests per MUTATIONS step; on two shared cores each can take 50 ms or more under load.
    120_000 + MUTATIONS * 15_000,
  );
});
