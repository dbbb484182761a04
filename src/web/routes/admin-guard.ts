import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import { isAdministrator, redirect, SIGN_IN_LINK, sendMessagePage } from '../web-context.js';
import type { WebOptions } from '../web-options.js';

export type AdminHandler = (
  request: FastifyRequest,
  reply: FastifyReply,
  admin: ActiveSession,
) => Promise<FastifyReply>;

/** Administrators only: others get 403 (signed-out browsers are sent to sign in first). */
export function adminOnly(web: WebOptions, handler: AdminHandler) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.auth?.record.stage !== 'signed_in') {
      return request.method === 'GET'
        ? redirect(reply, '/sign-in?notice=session-expired')
        : sendMessagePage(request, reply, web.useCases, { code: 'not_signed_in', link: SIGN_IN_LINK });
    }
    if (!isAdministrator(request))
      return sendMessagePage(request, reply, web.useCases, { code: 'not_admin' });
    return handler(request, reply, request.auth);
  };
}
