import { writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { MATRIX } from './authorization-table.js';
import {
  bodyFor,
  classify,
  concreteUrl,
  createWorld,
  credentials,
  csrfFor,
  fillBody,
  PRINCIPALS,
  useAppWithRoutes,
  type World,
} from './authorization-world.js';
import { type RoutePart, routePartOf } from './route-parts.js';

/**
 * Issue 6.5 (ASVS 4.0.3 4.1.1, 4.1.3, 4.2.1): every route, called by every kind of caller, against the
 * expected table in authorization-table.ts. A route added without a row fails here, as does any cell that
 * differs. Path parameters always name the victim's resources, so "other" is another signed-in user reaching
 * for them. Web forms carry a valid CSRF token of the caller's own session (CSRF is tested on its own).
 * One file per part of the routes (route-parts.ts): each compares its part of the registered routes with
 * its part of the table, so a route or a row in any part is checked by exactly one file.
 */
export function defineAuthorizationMatrix(part: RoutePart): void {
  describe(`authorization matrix: every route x every principal (${part})`, () => {
    const setup = useAppWithRoutes();
    const { routes } = setup;

    async function call(
      method: string,
      template: string,
      principal: (typeof PRINCIPALS)[number],
      world: World,
    ) {
      const headers = credentials(principal, world);
      const url = concreteUrl(template, world);
      const templateBody = bodyFor(method, template);
      const body = templateBody && fillBody(templateBody, world);
      if (body === undefined) return setup.app.inject({ method: method as 'GET', url, headers });
      if (template.startsWith('/api/'))
        return setup.app.inject({ method: method as 'POST', url, headers, payload: body });
      const csrf = await csrfFor(setup.app, headers);
      return setup.app.inject({
        method: 'POST',
        url,
        headers: {
          ...headers,
          cookie: [headers.cookie, csrf.cookie].filter(Boolean).join('; '),
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: new URLSearchParams({ ...body, _csrf: csrf.token }).toString(),
      });
    }

    test('the observed table equals the expected one, and no route is left unclassified', async () => {
      const observed: Record<string, string> = {};
      const serverErrors: string[] = [];
      const ours = routes.filter(({ url }) => routePartOf(url) === part);
      // The app registered routes of this part: a part that matched nothing would check nothing.
      expect(ours.length).toBeGreaterThan(20);
      for (const { method, url } of ours) {
        let world = await createWorld(setup.env);
        const cells: string[] = [];
        for (const principal of PRINCIPALS) {
          const response = await call(method, url, principal, world);
          if (response.statusCode >= 500)
            serverErrors.push(`${method} ${url} as ${principal}: ${response.statusCode}`);
          const outcome = classify(response);
          cells.push(outcome);
          // An allowed change may have spent the world (signed out, reset, revoked): start the next caller afresh.
          if (outcome === 'A' && method !== 'GET') world = await createWorld(setup.env);
        }
        observed[`${method} ${url}`] = cells.join(' ');
      }
      if (process.env.PRINT_MATRIX)
        writeFileSync(`${process.env.PRINT_MATRIX}.${part}`, JSON.stringify(observed, null, 2));
      expect(serverErrors).toEqual([]);
      const expected = Object.fromEntries(
        Object.entries(MATRIX).filter(([route]) => routePartOf(route) === part),
      );
      expect(observed).toEqual(expected);
    }, 120_000);
  });
}
