import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import type { UseCases } from '../../service/use-cases.js';
import { redirect, SIGN_IN_LINK, sendMessagePage, setSessionCookie } from '../web-context.js';

/** The request's session once fully signed in (not half-way, at the second step), else undefined. */
export function signedInSession(request: FastifyRequest): ActiveSession | undefined {
  return request.auth?.record.stage === 'signed_in' ? request.auth : undefined;
}

/** GETs send the browser to sign in; a POST without a session gets a 401 page (its input is not kept). */
export function notSignedIn(useCases: UseCases, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return request.method === 'GET'
    ? redirect(reply, '/sign-in?notice=session-expired')
    : sendMessagePage(request, reply, useCases, {
        code: 'not_signed_in',
        heading: 'Sign in',
        link: SIGN_IN_LINK,
      });
}

/** A route handler for signed-in users only; anyone else is answered as `notSignedIn` says. */
export function withSignedInUser(
  useCases: UseCases,
  handler: (request: FastifyRequest, reply: FastifyReply, session: ActiveSession) => Promise<FastifyReply>,
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (request, reply) => {
    const session = signedInSession(request);
    return session ? handler(request, reply, session) : notSignedIn(useCases, request, reply);
  };
}

/**
 * After a rotation, the rest of the request (the page it renders, the CSRF tokens in it) must use the
 * new session, and the browser gets the new cookie.
 */
export async function adoptSession(
  useCases: UseCases,
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
): Promise<void> {
  setSessionCookie(reply, token);
  request.sessionToken = token;
  request.auth = await useCases.resolveSession(token);
}
