import { fastifyCookie } from '@fastify/cookie';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ForwardAuthDecision, ProtectedRequest } from '../../service/forward-auth/decide.js';
import type { UseCases } from '../../service/use-cases.js';
import { sendApiError } from '../api-replies.js';
import { clientErrorCode } from '../error-status.js';

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

type Mode = 'status_401' | 'redirect';

export interface VerdictOptions {
  /** The security headers a page gets (`securityHeaders`, read from helmet once at start-up). */
  securityHeaders: readonly [string, string][];
  /** The session cookie's name (sessionCookieFor: shared with the cookie domain, or host-only). */
  sessionCookieName: string;
}

/**
 * A verdict is asked for every request to a protected app, so its routes live in a Fastify context of
 * their own (build-server.ts), beside the site's: none of the pages' plugins and hooks run for them
 * (helmet, which builds its header middlewares again on every request, the cookie plugin, form parsing,
 * CSRF, the session and must-set-up-2FA hooks). What a verdict needs of them it does itself:
 * - every answer a browser can see (401, 302/303, 400, 403, 500) has the very same security headers as a
 *   page, set in one step; a 200, which only the proxy sees, has Remote-*, no-store and nosniff only;
 * - it reads its one cookie from the Cookie header and resolves the session (one read of the session,
 *   its user and roles);
 * - it is not logged per request (`logLevel: 'warn'`: no "incoming request"/"request completed" lines at
 *   info; warnings and errors still are): the decisions that matter are audited, and all of them are
 *   counted in /metrics (docs/operations.md).
 * The root's hooks still run: the request id and the request count.
 */
/** The only headers of a 200 verdict besides Remote-* (see the handler). */
const ALLOWED_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

export function registerForwardAuthRoutes(
  app: FastifyInstance,
  useCases: UseCases,
  options: VerdictOptions,
): void {
  const headers = Object.fromEntries(options.securityHeaders);
  const cookieName = options.sessionCookieName;
  // Not an async function: a verdict answered from the snapshot is sent in the same turn, with no promise.
  const handler = (mode: Mode) => (request: FastifyRequest, reply: FastifyReply) => {
    const target = protectedRequest(request);
    if (!target) return sendApiError(reply.headers(headers), 'forward_auth_headers_missing');
    const decision = useCases.forwardAuthVerdict({
      token: sessionToken(request, cookieName),
      request: target,
      context: { ip: request.ip, userAgent: header(request, 'user-agent') ?? null },
    });
    if (decision instanceof Promise) return decision.then((known) => answer(reply, mode, target, known));
    return answer(reply, mode, target, decision);
  };
  const answer = (
    reply: FastifyReply,
    mode: Mode,
    target: ProtectedRequest,
    decision: ForwardAuthDecision,
  ) => {
    if (decision.kind === 'allowed') {
      // A 200 has no body and never reaches a browser: the proxy consumes it and passes on (upstream, to
      // the app) only the headers it is told to (nginx auth_request_set, Caddy copy_headers, Traefik
      // authResponseHeaders). The page security headers (CSP, frame options, HSTS...) would protect
      // nothing here; it carries Remote-*, no-store and nosniff only (docs/security.md, "Forward auth").
      // The person's address is their name in SpareKey: there is no separate display name. A host
      // application's user without an address is named by their id.
      const { identity } = decision;
      return reply
        .code(200)
        .headers(ALLOWED_HEADERS)
        .header('remote-user', identity.email || identity.userId)
        .header('remote-email', identity.email)
        .header('remote-name', identity.email)
        .header('remote-groups', identity.roles.join(','))
        .send();
    }
    // Every other answer may be shown to the browser (nginx turns the 401 into a redirect, Caddy and Traefik
    // hand the 302/303 and the 403 over as they are): the very same security headers as a page.
    reply.headers(headers).header('cache-control', 'no-store');
    switch (decision.kind) {
      case 'sign_in':
      case 'second_factor_setup':
        if (mode === 'status_401') return reply.code(401).header('location', decision.location).send();
        // 302 keeps a GET a GET; after another method the browser should come back with a GET (303).
        return reply.redirect(decision.location, isSafeMethod(target.method) ? 302 : 303);
      case 'denied':
        return sendApiError(reply, decision.reason);
    }
  };
  // An error (the session's read, say, with the database away) is a 500 in the API's error shape that says
  // nothing of the cause (logged, never sent), with the security headers a page's error has.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    reply.headers(headers);
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500)
      return sendApiError(reply, clientErrorCode(status, error.code), status);
    request.log.error(error);
    return reply
      .code(500)
      .header('cache-control', 'no-store')
      .send({ error: { code: 'internal_error', message: 'Something went wrong on our side.' } });
  });
  // GET for nginx and Traefik; Caddy's forward_auth sends the original method's request as GET too, but a
  // HEAD to the app arrives as HEAD.
  for (const [path, mode] of [
    [FORWARD_AUTH_PATHS.authRequest, 'status_401'],
    [FORWARD_AUTH_PATHS.forwardAuth, 'redirect'],
  ] as const) {
    app.get(path, { logLevel: 'warn' }, handler(mode));
  }
}

/**
 * The session token from the request's Cookie header (undefined without one), parsed as the site's cookie
 * plugin parses it. Not bounded like the other headers: the browser sends every cookie of the shared
 * domain's apps with it, and Node's header limit (16 KiB in all) already bounds it.
 */
function sessionToken(request: FastifyRequest, cookieName: string): string | undefined {
  const cookies = request.headers.cookie;
  return cookies ? fastifyCookie.parse(cookies)[cookieName] : undefined;
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
