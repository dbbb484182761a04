import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ProtectedRequest } from '../../service/forward-auth/decide.js';
import type { UseCases } from '../../service/use-cases.js';
import { sendApiError } from '../api-replies.js';

/**
 * The verification endpoints a reverse proxy calls before each request to a protected app
 * (docs/integrations.md). Both answer 200 with Remote-* headers, or 403; they differ only for someone
 * who must sign in (or set up a second factor) first:
 * - auth-request (nginx `auth_request`): 401 with the sign-in address in Location, because nginx accepts
 *   only 2xx, 401 and 403 from an auth subrequest and turns the 401 into a redirect with `error_page`;
 * - forward-auth (Caddy `forward_auth`, Traefik `ForwardAuth`): the redirect itself, which those proxies
 *   hand to the browser as it is.
 */
export const FORWARD_AUTH_PATHS = {
  authRequest: '/api/verify/auth-request',
  forwardAuth: '/api/verify/forward-auth',
} as const;

/**
 * The verdict paths' common prefix: the pages' hooks (session, return address, must-set-up-2FA gate) return
 * at once for these, since a verdict reads the session cookie itself and decides about second factors itself.
 */
export const VERDICT_PATH_PREFIX = '/api/verify/';

export function isVerdictPath(url: string): boolean {
  return url.startsWith(VERDICT_PATH_PREFIX);
}

type Mode = 'status_401' | 'redirect';

/**
 * A verdict is asked for every request to a protected app, so it does as little per request as it can:
 * - it skips helmet (which builds its ten header middlewares again on every request) and sets the very
 *   same headers (`securityHeaders`, read from helmet once at start-up) in one step;
 * - it resolves the session from its one cookie itself (one read of the session, its user and roles): the
 *   pages' hooks return at once for these paths (isVerdictPath);
 * - it is not logged per request (`logLevel: 'warn'`: no "incoming request"/"request completed" lines at
 *   info; warnings and errors still are): the decisions that matter are audited, and all of them are
 *   counted in /metrics (docs/operations.md).
 */
export function registerForwardAuthRoutes(
  app: FastifyInstance,
  useCases: UseCases,
  securityHeaders: readonly [string, string][],
): void {
  const headers = Object.fromEntries(securityHeaders);
  const cookieName = app.sessionCookie.name;
  const handler = (mode: Mode) => async (request: FastifyRequest, reply: FastifyReply) => {
    reply.headers(headers);
    const target = protectedRequest(request);
    if (!target) return sendApiError(reply, 'forward_auth_headers_missing');
    const token = request.cookies[cookieName];
    const decision = await useCases.decideForwardAuth({
      session: token ? await useCases.resolveSession(token) : undefined,
      request: target,
      context: { ip: request.ip, userAgent: header(request, 'user-agent') ?? null },
    });
    reply.header('cache-control', 'no-store');
    switch (decision.kind) {
      case 'allowed': {
        const { identity } = decision;
        // The person's address is their name in SpareKey: there is no separate display name. A host
        // application's user without an address is named by their id.
        return reply
          .code(200)
          .header('remote-user', identity.email || identity.userId)
          .header('remote-email', identity.email)
          .header('remote-name', identity.email)
          .header('remote-groups', identity.roles.join(','))
          .send();
      }
      case 'sign_in':
      case 'second_factor_setup':
        if (mode === 'status_401') return reply.code(401).header('location', decision.location).send();
        // 302 keeps a GET a GET; after another method the browser should come back with a GET (303).
        return reply.redirect(decision.location, isSafeMethod(target.method) ? 302 : 303);
      case 'denied':
        return sendApiError(reply, decision.reason);
    }
  };
  // GET for nginx and Traefik; Caddy's forward_auth sends the original method's request as GET too, but a
  // HEAD to the app arrives as HEAD.
  for (const [path, mode] of [
    [FORWARD_AUTH_PATHS.authRequest, 'status_401'],
    [FORWARD_AUTH_PATHS.forwardAuth, 'redirect'],
  ] as const) {
    app.get(
      path,
      {
        helmet: false,
        logLevel: 'warn',
        // An error (the session's read, say, with the database away) goes on to the app's error handler
        // as before, with the security headers helmet would have set.
        errorHandler: (error, _request, reply) => {
          reply.headers(headers);
          throw error;
        },
      },
      handler(mode),
    );
  }
}

function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

/**
 * The app's request from the proxy's headers: nginx sends the whole URL (X-Original-URL, with
 * X-Original-Method as the docs' configuration sets it); Caddy and Traefik send it in pieces
 * (X-Forwarded-Proto, -Host, -Uri, -Method). Undefined when the proxy sent neither.
 */
function protectedRequest(request: FastifyRequest): ProtectedRequest | undefined {
  const method = (header(request, 'x-original-method') ?? header(request, 'x-forwarded-method') ?? 'GET')
    .toUpperCase()
    .slice(0, 16);
  const original = header(request, 'x-original-url');
  if (original) return { url: original, method };
  const proto = header(request, 'x-forwarded-proto');
  const host = header(request, 'x-forwarded-host');
  if (!proto || !host) return undefined;
  const uri = header(request, 'x-forwarded-uri') ?? '/';
  return { url: `${proto}://${host}${uri}`, method };
}

/** One header's value; a repeated header (an array) counts as absent rather than as its first copy. */
function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value.length <= 4096 ? value : undefined;
}
