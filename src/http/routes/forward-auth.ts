import type { IncomingMessage, ServerResponse } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import { parseCookie } from 'cookie';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { type ErrorCode, errorMessage } from '../../core/errors.js';
import type { ForwardAuthDecision, ProtectedRequest } from '../../service/forward-auth/decide.js';
import type { UseCases } from '../../service/use-cases.js';
import { errorStatus } from '../error-status.js';
import { requestId } from '../request-id.js';
import { INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE } from '../schemas/common.js';

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
const MODES = new Map<string, Mode>([
  [FORWARD_AUTH_PATHS.authRequest, 'status_401'],
  [FORWARD_AUTH_PATHS.forwardAuth, 'redirect'],
]);

export interface VerdictOptions {
  /** The security headers a page gets (`securityHeaders`, read from helmet once at start-up). */
  securityHeaders: readonly [string, string][];
  /** The session cookie's name (sessionCookieFor: shared with the cookie domain, or host-only). */
  sessionCookieName: string;
  /** Behind a reverse proxy: the client's address comes from X-Forwarded-For, as for every other route. */
  trustProxy: boolean;
  /** Counts one answered verdict request in /metrics (by route template and status). */
  countRequest(route: string, method: string, status: number): void;
}

/** How a verdict request reached the edge: its request id, and the log for its errors. */
interface Arrival {
  id: string;
  log: FastifyBaseLogger;
}

/**
 * A verdict is asked for every request a proxy serves, and the issue wants it at no less than half a
 * hello-world route's rate. So it is answered on the raw request and response, with none of the per-request
 * machinery the pages need: the HTTP server hands the two paths (GET or HEAD, spelled exactly) straight to
 * `answerDirect`, before Fastify makes its request and reply objects, child logger and hooks; Fastify's
 * routes for the same paths (registered by `register`, in a context of their own) give anything else that
 * reaches them, and `inject`, the very same answer. Either way the edge does what a verdict needs of that
 * machinery itself:
 * - every answer a browser can see (401, 302/303, 400, 403, 500) has the very same security headers as a
 *   page; a 200, which only the proxy sees, has Remote-*, no-store and nosniff only; all have X-Request-Id;
 * - it reads its one cookie from the Cookie header, and the client's address as Fastify would;
 * - it is not logged per request (no "incoming request"/"request completed" lines; errors are): the
 *   decisions that matter are audited, and every answer is counted in /metrics (docs/operations.md).
 */
export function createVerdictEdge(useCases: UseCases, options: VerdictOptions) {
  const pageHeaders = options.securityHeaders.flat();

  function answer(request: IncomingMessage, response: ServerResponse, route: string, arrival: Arrival) {
    const reply = new VerdictReply(response, arrival.id, pageHeaders, (status) =>
      options.countRequest(route, request.method ?? 'GET', status),
    );
    const failed = (error: unknown) => {
      // Logged, never sent: a 500 in the API's error shape that says nothing of the cause.
      arrival.log.error({ reqId: arrival.id, err: error }, 'forward-auth verdict failed');
      reply.error(500, INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE);
    };
    try {
      const target = protectedRequest(request);
      if (!target) return reply.apiError('forward_auth_headers_missing');
      const decision = useCases.forwardAuthVerdict({
        token: sessionToken(request, options.sessionCookieName),
        request: target,
        context: {
          ip: clientAddress(request, options.trustProxy),
          userAgent: header(request, 'user-agent') ?? null,
        },
      });
      const mode = MODES.get(route) as Mode;
      if (decision instanceof Promise) {
        return decision.then((known) => reply.verdict(mode, target, known), failed);
      }
      return reply.verdict(mode, target, decision);
    } catch (error) {
      return failed(error);
    }
  }

  return {
    /**
     * Straight from the HTTP server: true when this was a verdict request and it is being answered; false
     * leaves the request to Fastify (another path, another method, or a spelling the router may decode).
     */
    answerDirect(request: IncomingMessage, response: ServerResponse, log: FastifyBaseLogger): boolean {
      const url = request.url ?? '';
      const query = url.indexOf('?');
      const route = query < 0 ? url : url.slice(0, query);
      if (!MODES.has(route) || (request.method !== 'GET' && request.method !== 'HEAD')) return false;
      void answer(request, response, route, { id: requestId(request), log });
      return true;
    },
    /** Fastify's routes for the same paths: the same answer, Fastify's reply set aside (hijacked). */
    register(app: FastifyInstance): void {
      for (const route of MODES.keys()) {
        // GET for nginx and Traefik; Caddy's forward_auth sends the original method's request as GET too,
        // but a HEAD to the app arrives as HEAD (Fastify answers HEAD with the GET route).
        app.get(route, { logLevel: 'warn' }, (request, reply) => {
          reply.hijack();
          return answer(request.raw, reply.raw, route, { id: request.id, log: request.log });
        });
      }
    },
  };
}

export type VerdictEdge = ReturnType<typeof createVerdictEdge>;

/** The only headers of a 200 verdict besides Remote-* and X-Request-Id (see VerdictReply.verdict). */
const ALLOWED_HEADERS = ['cache-control', 'no-store', 'x-content-type-options', 'nosniff'];

/** One verdict's answer, written once on the raw response and counted. */
class VerdictReply {
  constructor(
    private readonly response: ServerResponse,
    private readonly id: string,
    private readonly pageHeaders: readonly string[],
    private readonly counted: (status: number) => void,
  ) {}

  verdict(mode: Mode, target: ProtectedRequest, decision: ForwardAuthDecision): void {
    switch (decision.kind) {
      case 'allowed': {
        // A 200 has no body and never reaches a browser: the proxy consumes it and passes on (upstream, to
        // the app) only the headers it is told to (nginx auth_request_set, Caddy copy_headers, Traefik
        // authResponseHeaders). The page security headers (CSP, frame options, HSTS...) would protect
        // nothing here; it carries Remote-*, no-store and nosniff only (docs/security.md, "Forward auth").
        // The person's address is their name in SpareKey: there is no separate display name. A host
        // application's user without an address is named by their id.
        const { identity } = decision;
        this.send(200, [
          ...ALLOWED_HEADERS,
          'remote-user',
          identity.email || identity.userId,
          'remote-email',
          identity.email,
          'remote-name',
          identity.email,
          'remote-groups',
          identity.roles.join(','),
        ]);
        return;
      }
      // Every other answer may be shown to the browser (nginx turns the 401 into a redirect, Caddy and
      // Traefik hand the 302/303 and the 403 over as they are): the very same security headers as a page.
      case 'sign_in':
      case 'second_factor_setup': {
        // 302 keeps a GET a GET; after another method the browser should come back with a GET (303).
        const status = mode === 'status_401' ? 401 : isSafeMethod(target.method) ? 302 : 303;
        this.send(status, [...this.pageHeaders, 'cache-control', 'no-store', 'location', decision.location]);
        return;
      }
      case 'denied':
        this.apiError(decision.reason);
    }
  }

  apiError(code: ErrorCode): void {
    this.error(errorStatus(code), code, errorMessage(code));
  }

  /** The API's one error shape, with a page's security headers. */
  error(status: number, code: string, message: string): void {
    const body = JSON.stringify({ error: { code, message } });
    this.send(
      status,
      [...this.pageHeaders, 'cache-control', 'no-store', 'content-type', 'application/json; charset=utf-8'],
      body,
    );
  }

  private send(status: number, headers: string[], body = ''): void {
    const response = this.response;
    // Once only: an error after the answer left (the connection closed mid-way, say) has nobody to tell.
    if (response.headersSent) return;
    headers.push('x-request-id', this.id, 'content-length', String(Buffer.byteLength(body)));
    response.writeHead(status, headers);
    if (body) response.end(body);
    else response.end();
    this.counted(status);
  }
}

/**
 * The session token from the request's Cookie header (undefined without one), parsed as the site's cookie
 * plugin parses it (the same parser). Not bounded like the other headers: the browser sends every cookie of
 * the shared domain's apps with it, and Node's header limit (16 KiB in all) already bounds it.
 */
function sessionToken(request: IncomingMessage, cookieName: string): string | undefined {
  const cookies = request.headers.cookie;
  return cookies ? parseCookie(cookies)[cookieName] : undefined;
}

/**
 * The client's address as Fastify's `request.ip` gives it with the same trustProxy setting: the connection's
 * own address, or behind a trusted proxy the first one X-Forwarded-For names.
 */
function clientAddress(request: IncomingMessage, trustProxy: boolean): string | null {
  if (!trustProxy) return request.socket.remoteAddress ?? null;
  const addresses = proxyAddr.all(request, trustAll);
  return addresses[addresses.length - 1] ?? null;
}

const trustAll = () => true;

function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

/**
 * The app's request from the proxy's headers: nginx sends the whole URL (X-Original-URL, with
 * X-Original-Method as the docs' configuration sets it); Caddy and Traefik send it in pieces
 * (X-Forwarded-Proto, -Host, -Uri, -Method). Undefined when the proxy sent neither.
 */
function protectedRequest(request: IncomingMessage): ProtectedRequest | undefined {
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
function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value.length <= 4096 ? value : undefined;
}
