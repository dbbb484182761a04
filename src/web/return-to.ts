import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UseCases } from '../service/use-cases.js';
import { html } from './html.js';
import { cookieAttributes, HOME, redirect, requestContext, sendPage } from './web-context.js';

/**
 * "Return to" after sign-in, for any flow that sends a person to SpareKey and wants them back (forward
 * auth today): a page opened with `?return_to=<address>` remembers the address for 15 minutes in a
 * host-only cookie, if SpareKey may send people there (core/return-address.ts: no open redirect), and the
 * end of the sign-in (or of the second-factor setup) sends the browser there instead of the settings page.
 * A cookie rather than a field carried through every form: the second step has several forms (TOTP,
 * email, recovery code), and none of them needs to know.
 */
export const RETURN_COOKIE = '__Host-sparekey_return';
const RETURN_COOKIE_SECONDS = 15 * 60;
/** The pages that accept `return_to`: where forward auth sends people. */
export const RETURN_TO_PAGES = ['/sign-in', '/settings/two-factor'];

/** Keeps a valid `return_to` of this GET; an invalid one is ignored (and any earlier one forgotten). */
export function rememberReturnAddress(
  useCases: UseCases,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const raw = (request.query as { return_to?: unknown } | undefined)?.return_to;
  if (raw === undefined) return;
  const address = typeof raw === 'string' ? useCases.checkReturnAddress(raw) : undefined;
  if (address) {
    reply.setCookie(RETURN_COOKIE, address, { ...cookieAttributes, maxAge: RETURN_COOKIE_SECONDS });
    // This request's own handler sees it too (someone already signed in goes straight back).
    request.cookies[RETURN_COOKIE] = address;
  } else {
    forgetReturnAddress(request, reply);
    delete request.cookies[RETURN_COOKIE];
  }
}

function forgetReturnAddress(request: FastifyRequest, reply: FastifyReply): void {
  if (request.cookies[RETURN_COOKIE] !== undefined) reply.clearCookie(RETURN_COOKIE, cookieAttributes);
}

/**
 * Where a person who is now signed in goes: the remembered address (checked again, and used once), or
 * `fallback`. `justSignedIn` audits a sign-in that returns to a protected app, with its host.
 */
export async function landingAfterSignIn(
  useCases: UseCases,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { userId: string; justSignedIn: boolean; fallback?: string },
): Promise<string> {
  const fallback = options.fallback ?? HOME;
  const remembered = request.cookies[RETURN_COOKIE];
  if (!remembered) return fallback;
  forgetReturnAddress(request, reply);
  const address = await useCases.landAfterSignIn({
    userId: options.userId,
    returnAddress: remembered,
    justSignedIn: options.justSignedIn,
    context: requestContext(request),
  });
  return address ?? fallback;
}

/** Whether this browser came with a return address (the pages then offer a way on to it). */
export function hasReturnAddress(request: FastifyRequest): boolean {
  return request.cookies[RETURN_COOKIE] !== undefined;
}

/**
 * The end of a sign-in form: on to the landing address. A path on SpareKey itself that came with the
 * sign-in (an OpenID Connect interaction) is left by a refresh, not a redirect: it redirects on to an
 * application of any origin, and a redirect would keep that whole chain part of the form's navigation,
 * which browsers hold to this page's CSP `form-action` (Chromium does), so the application's address
 * would be blocked. Absolute addresses (the cookie domain, which form-action admits) are redirected to.
 */
export async function sendToLanding(
  useCases: UseCases,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { userId: string; justSignedIn: boolean; fallback?: string },
): Promise<FastifyReply> {
  const fallback = options.fallback ?? HOME;
  const landing = await landingAfterSignIn(useCases, request, reply, options);
  if (landing === fallback || !landing.startsWith('/')) return redirect(reply, landing);
  reply.header('refresh', `0;url=${landing}`);
  return sendPage(request, reply, useCases, {
    title: 'Signed in',
    body: html`<h1>Signed in</h1><p><a class="button" href="${landing}" id="continue">Continue</a></p>`,
  });
}
