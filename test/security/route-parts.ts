/**
 * The route-by-route security suites (authorization matrix, mass assignment, fuzzing) each walk all ~150
 * routes. vitest runs files, not tests, in parallel, so each suite is split into files by these parts;
 * every route falls in exactly one, so together the files still cover every route.
 */
export const ROUTE_PARTS = ['json-api', 'account-pages', 'public-pages'] as const;
export type RoutePart = (typeof ROUTE_PARTS)[number];

/** `url` is a route template (`/api/v1/users/:userId`) or a matrix key (`GET /api/v1/users/:userId`). */
export function routePartOf(url: string): RoutePart {
  const path = url.includes(' ') ? url.slice(url.indexOf(' ') + 1) : url;
  if (path.startsWith('/api/')) return 'json-api';
  // The pages a signed-in user or an administrator works in.
  if (path.startsWith('/settings') || path.startsWith('/admin')) return 'account-pages';
  // Sign-in, sign-up, recovery, setup, the OpenID Connect provider, the docs, assets and operations.
  return 'public-pages';
}
