import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, errorMessage } from '../core/errors.js';
import { hashSessionToken } from '../core/session-token.js';
import { errorStatus } from '../http/error-status.js';
import { noteRetryAfter } from '../http/retry-after.js';
import { accountLabel } from '../service/accounts/account-label.js';
import type { RequestContext } from '../service/deps.js';
import type { ActiveSession } from '../service/sessions/sessions.js';
import type { UseCases } from '../service/use-cases.js';
import type { Html } from './html.js';
import { layout } from './layout.js';
import { messagePage } from './pages/account-pages.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The browser's session, resolved once per request from its cookie. */
    auth: ActiveSession | undefined;
    sessionToken: string | undefined;
  }
}

/**
 * `__Host-`: the browser accepts it only with Secure, Path=/ and no Domain, so a sibling subdomain can
 * neither set nor overwrite it (cookie tossing). Browsers treat http://localhost and 127.0.0.1 as secure
 * contexts, so this works in development too.
 */
export const SESSION_COOKIE = '__Host-sparekey_session';
/**
 * With SPAREKEY_COOKIE_DOMAIN (forward auth), the session must reach the protected apps' hosts, so it
 * carries a Domain, which `__Host-` forbids. `__Secure-` still makes the browser refuse it without Secure
 * (docs/security.md says what the shared cookie changes).
 */
export const SHARED_SESSION_COOKIE = '__Secure-sparekey_session';
export const CSRF_COOKIE = '__Host-sparekey_csrf';
/** A remembered browser (second step skipped for 30 days): signed, bound to its user, stored hashed. */
export const DEVICE_COOKIE = '__Host-sparekey_device';

export const cookieAttributes = {
  path: '/',
  secure: true,
  httpOnly: true,
  sameSite: 'lax',
} as const;

/** The session cookie's name and attributes: host-only, or shared with the cookie domain. */
export interface SessionCookie {
  name: string;
  attributes: typeof cookieAttributes & { domain?: string };
}

declare module 'fastify' {
  interface FastifyInstance {
    sessionCookie: SessionCookie;
  }
}

export function sessionCookieFor(cookieDomain: string | null | undefined): SessionCookie {
  return cookieDomain
    ? { name: SHARED_SESSION_COOKIE, attributes: { ...cookieAttributes, domain: cookieDomain } }
    : { name: SESSION_COOKIE, attributes: cookieAttributes };
}

export function setSessionCookie(reply: FastifyReply, token: string): void {
  const cookie = reply.server.sessionCookie;
  reply.setCookie(cookie.name, token, cookie.attributes);
}

export function setDeviceCookie(reply: FastifyReply, value: string, expiresAt: Date): void {
  reply.setCookie(DEVICE_COOKIE, value, { ...cookieAttributes, expires: expiresAt });
}

export function clearDeviceCookie(reply: FastifyReply): void {
  reply.clearCookie(DEVICE_COOKIE, cookieAttributes);
}

export function clearSessionCookie(reply: FastifyReply): void {
  const cookie = reply.server.sessionCookie;
  reply.clearCookie(cookie.name, cookie.attributes);
}

/** What the CSRF token is bound to: this session, so a token from another session is worthless. */
export function csrfBinding(request: FastifyRequest): string {
  return (request.sessionToken && hashSessionToken(request.sessionToken)) || 'anonymous';
}

export function requestContext(request: FastifyRequest): RequestContext {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof userAgent === 'string' ? userAgent : null };
}

export function csrfToken(request: FastifyRequest, reply: FastifyReply): string {
  return reply.generateCsrf({ userInfo: csrfBinding(request) });
}

/** Sends a full page. Pages never go to shared caches or the back-forward cache: they show account state. */
export function sendPage(
  request: FastifyRequest,
  reply: FastifyReply,
  useCases: UseCases,
  page: { title: string; body: Html; status?: number },
): FastifyReply {
  const signedIn = request.auth?.record.stage === 'signed_in' ? request.auth : undefined;
  const signingIn = request.auth?.record.stage === 'second_factor' ? request.auth : undefined;
  return reply
    .code(page.status ?? 200)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(
      layout(
        {
          title: page.title,
          siteName: useCases.options.issuer,
          signedInAs: signedIn && accountLabel(signedIn.user),
          signingInAs: signingIn && accountLabel(signingIn.user),
          isAdmin: signedIn?.user.roles.includes('administrator') ?? false,
          csrfToken: signedIn || signingIn ? csrfToken(request, reply) : undefined,
          // The security-key scripts load only on pages with a security-key form.
          webauthn: page.body.value.includes('data-webauthn'),
        },
        page.body,
      ).toString(),
    );
}

export function statusFor(code: ErrorCode): number {
  return errorStatus(code);
}

export function messageFor(code: ErrorCode): string {
  return errorMessage(code);
}

/**
 * A refused use case's message for a page. A throttled one also gets the wait, as `Retry-After` and in
 * words, so a person knows how long (RFC 9110 10.2.3).
 */
export function failureMessage(
  reply: FastifyReply,
  failure: { error: ErrorCode; retryAfterSeconds?: number },
): string {
  noteRetryAfter(reply, failure);
  const seconds = failure.retryAfterSeconds;
  if (seconds === undefined) return messageFor(failure.error);
  const wait = seconds < 90 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;
  return `${messageFor(failure.error)} Try again in ${wait}.`;
}

/** Reads one text field of a urlencoded form; anything else (missing, repeated, an object) is ''. */
export function field(request: FastifyRequest, name: string, maxLength = 1024): string {
  const body = request.body as Record<string, unknown> | undefined;
  const value = body?.[name];
  return typeof value === 'string' ? value.slice(0, maxLength) : '';
}

export function redirect(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('cache-control', 'no-store').redirect(location, 303);
}

/** A page that only says what went wrong (in words) and where to go next, with the code's status. */
export function sendMessagePage(
  request: FastifyRequest,
  reply: FastifyReply,
  useCases: UseCases,
  input: {
    code: ErrorCode;
    heading?: string;
    link?: { href: string; text: string };
    status?: number;
    extra?: string;
  },
): FastifyReply {
  const heading = input.heading ?? 'Sorry';
  return sendPage(request, reply, useCases, {
    title: heading,
    status: input.status ?? errorStatus(input.code),
    body: messagePage({
      heading,
      message: input.extra ? `${errorMessage(input.code)} ${input.extra}` : errorMessage(input.code),
      link: input.link ?? { href: '/', text: 'Go to the start page' },
    }),
  });
}

export const SIGN_IN_LINK = { href: '/sign-in', text: 'Go to sign in' } as const;
/** Where a signed-in person lands. */
export const HOME = '/settings/two-factor';

/** Every value of a repeated field (checkboxes, multi-selects); strings only, each bounded. */
export function fields(request: FastifyRequest, name: string, maxLength = 128): string[] {
  const value = (request.body as Record<string, unknown> | undefined)?.[name];
  const values = Array.isArray(value) ? value : [value];
  return values
    .filter((item): item is string => typeof item === 'string' && item.length > 0)
    .map((item) => item.slice(0, maxLength));
}

export function isAdministrator(request: FastifyRequest): boolean {
  return request.auth?.record.stage === 'signed_in' && request.auth.user.roles.includes('administrator');
}
