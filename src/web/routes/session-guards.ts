import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceDeps } from '../../service/deps.js';
import { type ActiveSession, resolveSession } from '../../service/sessions/sessions.js';
import { redirect, SIGN_IN_LINK, sendMessagePage, setSessionCookie } from '../web-context.js';

/** The request's session once fully signed in (not half-way, at the second step), else undefined. */
export function signedInSession(request: FastifyRequest): ActiveSession | undefined {
  return request.auth?.record.stage === 'signed_in' ? request.auth : undefined;
}

/** GETs send the browser to sign in; a POST without a session gets a 401 page (its input is not kept). */
export function notSignedIn(deps: ServiceDeps, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return request.method === 'GET'
    ? redirect(reply, '/sign-in?notice=session-expired')
    : sendMessagePage(request, reply, deps, {
        code: 'not_signed_in',
        heading: 'Sign in',
        link: SIGN_IN_LINK,
      });
}

/** A route handler for signed-in users only; anyone else is answered as `notSignedIn` says. */
export function withSignedInUser(
  deps: ServiceDeps,
  handler: (request: FastifyRequest, reply: FastifyReply, session: ActiveSession) => Promise<FastifyReply>,
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (request, reply) => {
    const session = signedInSession(request);
    return session ? handler(request, reply, session) : notSignedIn(deps, request, reply);
  };
}

/**
 * After a rotation, the rest of the request (the page it renders, the CSRF tokens in it) must use the
 * new session, and the browser gets the new cookie.
 */
export async function adoptSession(
  deps: ServiceDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
): Promise<void> {
  setSessionCookie(reply, token);
  request.sessionToken = token;
  request.auth = await resolveSession(deps, token);
}
