import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import { accountLabel } from '../../service/accounts/account-label.js';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import { changePasswordPage } from '../pages/password-pages.js';
import {
  clearDeviceCookie,
  csrfToken,
  failureMessage,
  field,
  redirect,
  requestContext,
  sendPage,
  statusFor,
} from '../web-context.js';
import { noticeFor, type WebOptions } from '../web-options.js';
import { adoptSession, notSignedIn, withSignedInUser } from './session-guards.js';

export const PASSWORD_SETTINGS = '/settings/password';

/** Settings → Password: the current password and a new one (issue 8: a change forgets remembered browsers). */
export function registerPasswordRoutes(app: FastifyInstance, web: WebOptions): void {
  const { useCases } = web;

  // W3C "A Well-Known URL for Changing Passwords": where password managers send a person to change it.
  app.get('/.well-known/change-password', async (_request, reply) => redirect(reply, PASSWORD_SETTINGS));

  const show = (
    request: FastifyRequest,
    reply: FastifyReply,
    session: ActiveSession,
    failure?: { error: ErrorCode; retryAfterSeconds?: number },
  ) =>
    sendPage(request, reply, useCases, {
      title: 'Change your password',
      status: failure ? statusFor(failure.error) : 200,
      body: changePasswordPage({
        csrf: csrfToken(request, reply),
        account: accountLabel(session.user),
        notice: noticeFor(request.query),
        error: failure && failureMessage(reply, failure),
      }),
    });

  app.get(
    PASSWORD_SETTINGS,
    withSignedInUser(useCases, async (request, reply, session) => show(request, reply, session)),
  );

  app.post(
    PASSWORD_SETTINGS,
    { preHandler: app.csrfProtection },
    withSignedInUser(useCases, async (request, reply, session) => {
      const changed = await useCases.changePassword({
        userId: session.user.id,
        sessionToken: request.sessionToken as string,
        currentPassword: field(request, 'currentPassword', 4096),
        newPassword: field(request, 'newPassword', 4096),
        context: requestContext(request),
      });
      if (!changed.ok) {
        if (changed.error === 'not_signed_in') return notSignedIn(useCases, request, reply);
        return show(request, reply, session, changed);
      }
      await adoptSession(useCases, request, reply, changed.value.token);
      // This browser's remembered-device cookie names a forgotten device now: drop it too.
      clearDeviceCookie(reply);
      return redirect(reply, `${PASSWORD_SETTINGS}?notice=password-changed`);
    }),
  );
}
