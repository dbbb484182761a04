import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { stateSnapshot } from '../helpers/state-snapshot.js';
import { reportStressRow } from '../scale/stress-report.js';
import {
  concreteUrl,
  createWorld,
  credentials,
  csrfFor,
  useAppWithRoutes,
  type World,
} from './authorization-world.js';
import { callerFor, FIELDS, hostileString, hostileValue, problemWith } from './fuzz-inputs.js';
import { type RoutePart, routePartOf } from './route-parts.js';

/**
 * Issue 6.4 (ASVS 4.0.3 5.1.x input validation, 13.1.x API): every JSON route and every form, fed hostile
 * input by fast-check (wrong types, huge strings, deep nesting, unicode, NUL bytes, SQL and HTML
 * metacharacters, missing and extra fields, wrong content types, bodies over the limit). Every answer is
 * below 500; every 4xx carries the error shape (JSON: error.code and error.message; pages: a message, no
 * stack); a rejected request changes no state. Seeded, so a failure replays; FUZZ_RUNS raises the count.
 * One file per part of the routes (route-parts.ts: fuzz.test.ts, fuzz-api.test.ts, fuzz-account-pages.test.ts),
 * so the parts run in parallel; together they cover every route.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);

/** What one fuzzed request sends. */
type Attack =
  | { kind: 'json'; body: unknown }
  | { kind: 'raw'; contentType: string; body: string }
  | { kind: 'form'; fields: [string, string][] }
  | { kind: 'path'; value: string };

const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const attack: fc.Arbitrary<Attack> = fc.oneof(
  fc.record({ kind: fc.constant('json' as const), body: hostileValue }),
  fc.record({
    kind: fc.constant('json' as const),
    body: fc.dictionary(fc.constantFrom(...FIELDS), hostileValue, { maxKeys: 6 }),
  }),
  fc.record({
    kind: fc.constant('raw' as const),
    contentType: fc.constantFrom(
      'application/json',
      'text/plain',
      'application/xml',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
    ),
    body: fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.constantFrom('{', '{"code":', deep(5000), `{"a":${deep(2000)}}`, 'x'.repeat(70 * 1024), '\u0000'),
    ),
  }),
  fc.record({
    kind: fc.constant('form' as const),
    fields: fc.array(fc.tuple(fc.constantFrom(...FIELDS), hostileString), { maxLength: 6 }),
  }),
  fc.record({ kind: fc.constant('path' as const), value: hostileString }),
);

export function defineFuzzSuite(part: RoutePart): void {
  describe(`fuzzing every route and form (issue 6.4): ${part}`, () => {
    const setup = useAppWithRoutes();
    const routes = {
      *[Symbol.iterator]() {
        for (const route of setup.routes) if (routePartOf(route.url) === part) yield route;
      },
    };
    const routeCount = () => [...routes].length;

    async function send(method: string, template: string, world: World, chosen: Attack) {
      const headers = credentials(callerFor(template), world);
      let url = concreteUrl(template, world);
      if (chosen.kind === 'path') {
        const param = template.match(/:[A-Za-z]+/)?.[0];
        url = param
          ? concreteUrl(template.replace(param, encodeURIComponent(chosen.value)), world)
          : `${url}?${new URLSearchParams({ q: chosen.value, format: chosen.value, token: chosen.value })}`;
      }
      if (method === 'GET' || method === 'DELETE')
        return setup.app.inject({ method: method as 'GET', url, headers });
      const web = !template.startsWith('/api/');
      const csrf = web ? await csrfFor(setup.app, headers) : undefined;
      const cookie = [headers.cookie, csrf?.cookie].filter(Boolean).join('; ');
      const base = { method: method as 'POST', url, headers: { ...headers, cookie } };
      switch (chosen.kind) {
        case 'json':
          return setup.app.inject({
            ...base,
            payload: JSON.stringify(web ? { ...Object(chosen.body), _csrf: csrf?.token } : chosen.body),
            headers: { ...base.headers, 'content-type': 'application/json' },
          });
        case 'raw':
          return setup.app.inject({
            ...base,
            payload: chosen.body,
            headers: { ...base.headers, 'content-type': chosen.contentType },
          });
        case 'form':
        case 'path': {
          const fields = chosen.kind === 'form' ? chosen.fields : [];
          const form = new URLSearchParams([
            ...fields,
            ...(csrf ? [['_csrf', csrf.token] as [string, string]] : []),
          ]);
          return setup.app.inject({
            ...base,
            payload: form.toString(),
            headers: { ...base.headers, 'content-type': 'application/x-www-form-urlencoded' },
          });
        }
      }
    }

    test(
      'every answer is below 500 with the error shape, and a refused request changes nothing',
      async () => {
        const problems: string[] = [];
        let requests = 0;
        let accepted = 0;
        let serverErrors = 0;
        for (const { method, url: template } of routes) {
          if (template.startsWith('/docs') || template.startsWith('/assets')) continue;
          const world = await createWorld(setup.env);
          await fc.assert(
            fc.asyncProperty(attack, async (chosen) => {
              const before = method === 'GET' ? '' : await stateSnapshot(setup.env);
              const response = await send(method, template, world, chosen);
              requests++;
              if (response.statusCode >= 500) serverErrors++;
              else if (response.statusCode < 400) accepted++;
              const problem = problemWith(response, template);
              if (problem)
                problems.push(`${method} ${template} ${JSON.stringify(chosen).slice(0, 120)}: ${problem}`);
              // A 429 is a refusal too: its charge to the throttle counters is the intended change, and the
              // snapshot leaves those counters out (state-snapshot.ts); nothing else may move.
              if (method !== 'GET' && response.statusCode >= 400) {
                const after = await stateSnapshot(setup.env);
                if (after !== before)
                  problems.push(`${method} ${template} changed state on ${response.statusCode}`);
              }
            }),
            { numRuns: RUNS, seed: SEED },
          );
        }
        reportStressRow({
          suite: `fuzz: hostile input on every route and form (${part})`,
          file: import.meta.url,
          attempts: requests,
          accepted: accepted,
          acceptedLabel: 'answered below 400',
          doubleAccepts: 0,
          lostEvents: null,
          serverErrors,
        });
        // Every route of the part took RUNS requests (/docs and /assets are left out above).
        expect(routeCount()).toBeGreaterThan(20);
        expect(requests).toBeGreaterThan((routeCount() - 12) * RUNS);
        expect(problems.slice(0, 20)).toEqual([]);
        // Still up and answering after all of it.
        expect((await setup.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
        // Each run sends one request per route and snapshots the state around the refused ones.
      },
      60_000 + RUNS * 12_000,
    );

    test('on every route that takes a body: over the limit -> 413, deeply nested or broken JSON -> 400, over a real socket', async () => {
      const address = await setup.app.listen({ port: 0, host: '127.0.0.1' });
      const problems: string[] = [];
      const bodies: [string, string, number][] = [
        ['application/json', JSON.stringify({ code: 'x'.repeat(70 * 1024) }), 413],
        ['application/json', deep(30_000), 400],
        ['application/json', '{"code": "K-7Q2MX', 400],
        ['application/json', '{"code":"\u0000"}\u0000', 400],
      ];
      let world = await createWorld(setup.env);
      for (const { method, url: template } of routes) {
        if (method === 'GET' || method === 'DELETE') continue;
        for (const [contentType, body, expected] of bodies) {
          const headers = credentials(callerFor(template), world);
          const before = await stateSnapshot(setup.env);
          const response = await fetch(`${address}${concreteUrl(template, world)}`, {
            method,
            headers: { ...headers, 'content-type': contentType },
            body,
          });
          const text = await response.text();
          // The size limit holds everywhere, before any route runs. Otherwise: a route that takes no body
          // ignores a malformed one (2xx); the rest refuse it with a 4xx (400 broken JSON, 403 a form without
          // its CSRF token, 409 nothing to do) and never a 5xx.
          const ignored = expected !== 413 && response.status < 300;
          const ok = expected === 413 ? response.status === 413 : response.status < 500;
          if (!ok)
            problems.push(
              `${method} ${template} ${body.slice(0, 20)}: ${response.status} ${text.slice(0, 120)}`,
            );
          // A body-less route (sign-out, generate) acted and may have spent the session: start afresh.
          if (ignored) {
            world = await createWorld(setup.env);
            continue;
          }
          if (template.startsWith('/api/') && !/"error":\{"code":"[a-z_]+","message":"[^"]+"/.test(text))
            problems.push(`${method} ${template}: no error shape`);
          if (response.status === 413 && !text.includes('too large'))
            problems.push(`${template}: 413 unexplained`);
          if ((await stateSnapshot(setup.env)) !== before)
            problems.push(`${method} ${template} changed state`);
        }
      }
      expect(problems).toEqual([]);
      expect((await fetch(`${address}/healthz`)).status).toBe(200);
    }, 60_000);
  });
}
