import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceDeps } from '../../service/deps.js';
import { resolveSession } from '../../service/sessions.js';
import { setSessionCookie } from '../web-context.js';

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
