import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import { forgotPasswordPage, resetPasswordPage } from '../pages/sign-in-pages.js';
import {
  csrfToken,
  failureMessage,
  field,
  requestContext,
  sendMessagePage,
  sendPage,
  statusFor,
} from '../web-context.js';
import type { WebOptions } from '../web-options.js';
import { sendRecoveryOutcome } from './recovery-outcome-page.js';

/** "Forgot your password?": the emailed link, then a new password (and a second factor when 2FA is on). */
export function registerPasswordResetRoutes(app: FastifyInstance, web: WebOptions): void {
  const { useCases } = web;
  const csrf = { preHandler: app.csrfProtection };

  const showRequestForm = (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: {
      sent?: boolean;
      email?: string;
      failure?: { error: ErrorCode; retryAfterSeconds?: number };
    } = {},
  ) =>
    sendPage(request, reply, useCases, {
      title: extra.sent ? 'Check your email' : 'Reset your password',
      status: extra.failure ? statusFor(extra.failure.error) : 200,
      body: forgotPasswordPage({
        csrf: csrfToken(request, reply),
        sent: extra.sent,
        email: extra.email,
        error: extra.failure && failureMessage(reply, extra.failure),
      }),
    });

  app.get('/forgot-password', async (request, reply) => showRequestForm(request, reply));

  app.post('/forgot-password', csrf, async (request, reply) => {
    const email = field(request, 'email', 512);
    if (!email.trim()) return showRequestForm(request, reply, { failure: { error: 'invalid_email' } });
    const result = await useCases.requestPasswordReset({ email, context: requestContext(request) });
    if (!result.ok) return showRequestForm(request, reply, { email, failure: result });
    // The email goes out after the answer, so how long the relay takes says nothing about the account.
    return showRequestForm(request, reply, { sent: true });
  });

  const invalidLink = (request: FastifyRequest, reply: FastifyReply) =>
    sendMessagePage(request, reply, useCases, {
      code: 'reset_link_invalid',
      link: { href: '/forgot-password', text: 'Ask for a new link' },
    });

  const showResetForm = async (
    request: FastifyRequest,
    reply: FastifyReply,
    token: string,
    failure?: { error: ErrorCode; retryAfterSeconds?: number },
  ) => {
    const info = await useCases.inspectResetLink(token);
    if (!info) return invalidLink(request, reply);
    return sendPage(request, reply, useCases, {
      title: 'Choose a new password',
      status: failure ? statusFor(failure.error) : 200,
      body: resetPasswordPage({
        csrf: csrfToken(request, reply),
        token,
        account: info.email,
        secondFactorRequired: info.secondFactorRequired,
        hasTotp: info.hasTotp,
        error: failure && failureMessage(reply, failure),
      }),
    });
  };

  app.get('/reset-password', async (request, reply) => {
    const { token } = request.query as { token?: unknown };
    if (typeof token !== 'string' || token.length > 128) return invalidLink(request, reply);
    // The link's token stays out of the Referer of anything this page loads.
    reply.header('referrer-policy', 'no-referrer');
    return showResetForm(request, reply, token);
  });

  app.post('/reset-password', csrf, async (request, reply) => {
    const token = field(request, 'token', 128);
    const result = await useCases.resetPassword({
      token,
      newPassword: field(request, 'password', 4096),
      totpCode: field(request, 'totpCode', 64),
      recoveryCode: field(request, 'recoveryCode', 256),
      context: requestContext(request),
    });
    if (!result.ok) {
      if (result.error === 'reset_link_invalid') return invalidLink(request, reply);
      return showResetForm(request, reply, token, result);
    }
    return sendRecoveryOutcome(request, reply, useCases, {
      use: 'password_reset',
      outcome: result.value.recovery,
      userId: result.value.userId,
    });
  });
}
