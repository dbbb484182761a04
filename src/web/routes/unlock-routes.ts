import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import { unlockPage } from '../pages/sign-in-pages.js';
import {
  csrfToken,
  failureMessage,
  field,
  redirect,
  requestContext,
  SIGN_IN_LINK,
  sendMessagePage,
  sendPage,
  statusFor,
} from '../web-context.js';
import type { WebOptions } from '../web-options.js';

/** The emailed link that unlocks second factors after too many wrong attempts, with the password. */
export function registerUnlockRoutes(app: FastifyInstance, web: WebOptions): void {
  const { useCases } = web;

  const showForm = (
    request: FastifyRequest,
    reply: FastifyReply,
    token: string,
    failure?: { error: ErrorCode; retryAfterSeconds?: number },
  ) =>
    sendPage(request, reply, useCases, {
      title: 'Unlock two-factor sign-in',
      status: failure ? statusFor(failure.error) : 200,
      body: unlockPage({
        csrf: csrfToken(request, reply),
        token,
        error: failure && failureMessage(reply, failure),
      }),
    });

  const invalid = (request: FastifyRequest, reply: FastifyReply) =>
    sendMessagePage(request, reply, useCases, { code: 'unlock_link_invalid', link: SIGN_IN_LINK });

  app.get('/unlock', async (request, reply) => {
    const { token } = request.query as { token?: unknown };
    if (typeof token !== 'string' || !(await useCases.isUnlockLinkLive(token)))
      return invalid(request, reply);
    return showForm(request, reply, token);
  });

  app.post('/unlock', { preHandler: app.csrfProtection }, async (request, reply) => {
    const token = field(request, 'token', 128);
    const result = await useCases.unlockSecondFactor({
      token,
      password: field(request, 'password', 4096),
      context: requestContext(request),
    });
    if (result.ok) return redirect(reply, '/sign-in?notice=unlocked');
    if (result.error === 'unlock_link_invalid') return invalid(request, reply);
    return showForm(request, reply, token, result);
  });
}
