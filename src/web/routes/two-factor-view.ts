import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import { accountLabel } from '../../service/accounts/account-label.js';
import type { FactorConfirmation } from '../../service/factors/complete-enrollment.js';
import type { IssuedRecoveryCodeSet } from '../../service/recovery-codes/prepare-recovery-code-set.js';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import { overviewPage, recoveryCodesShownPage } from '../pages/two-factor-pages.js';
import { sendToLanding } from '../return-to.js';
import {
  csrfToken,
  DEVICE_COOKIE,
  HOME,
  messageFor,
  requestContext,
  sendPage,
  statusFor,
} from '../web-context.js';
import { noticeFor, type WebOptions } from '../web-options.js';
import { adoptSession, withSignedInUser } from './session-guards.js';

export type SessionHandler = (
  request: FastifyRequest,
  reply: FastifyReply,
  session: ActiveSession,
) => Promise<FastifyReply>;

/**
 * What every page of Settings → Two-factor authentication shares: the overview (where a refusal is shown),
 * the page of codes shown once, and the session rotation after a factor is confirmed. The route files
 * (enrolment, security keys, devices and codes, step-up actions) each take one of these.
 */
export interface TwoFactorView {
  web: WebOptions;
  withUser: (
    handler: SessionHandler,
  ) => (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;
  showOverview: (
    request: FastifyRequest,
    reply: FastifyReply,
    session: ActiveSession,
    error?: ErrorCode,
  ) => Promise<FastifyReply>;
  showCodes: (
    request: FastifyRequest,
    reply: FastifyReply,
    session: ActiveSession,
    set: IssuedRecoveryCodeSet,
    copy: { heading: string; intro: string },
  ) => FastifyReply | Promise<FastifyReply>;
  /** After a factor is confirmed: a fresh session token, then the first codes or back where the user was. */
  afterConfirmation: (
    request: FastifyRequest,
    reply: FastifyReply,
    session: ActiveSession,
    confirmation: FactorConfirmation,
    method: 'totp' | 'email' | 'webauthn',
  ) => Promise<FastifyReply>;
}

export function twoFactorView(web: WebOptions): TwoFactorView {
  const { useCases } = web;

  const showOverview: TwoFactorView['showOverview'] = async (request, reply, session, error) =>
    sendPage(request, reply, useCases, {
      title: 'Two-factor authentication',
      status: error ? statusFor(error) : 200,
      body: overviewPage({
        csrf: csrfToken(request, reply),
        overview: await useCases.getMfaOverview({ userId: session.user.id }),
        thisBrowser: (
          await useCases.identifyDevice({
            userId: session.user.id,
            cookieValue: request.cookies[DEVICE_COOKIE],
          })
        )?.id,
        notice: noticeFor(request.query),
        error: error && messageFor(error),
      }),
    });

  const showCodes: TwoFactorView['showCodes'] = (request, reply, session, set, copy) =>
    sendPage(request, reply, useCases, {
      title: copy.heading,
      body: recoveryCodesShownPage({
        csrf: csrfToken(request, reply),
        set,
        ...copy,
        siteName: useCases.options.issuer,
        account: accountLabel(session.user),
      }),
    });

  const afterConfirmation: TwoFactorView['afterConfirmation'] = async (
    request,
    reply,
    session,
    confirmation,
    method,
  ) => {
    // Each completed MFA step gets a fresh session token (OWASP Session CS: renew on privilege change);
    // a confirmed enrolment code is a second factor proven in this signed-in session.
    const rotated = await useCases.rotateSession({
      token: request.sessionToken as string,
      stage: 'signed_in',
      method,
      context: requestContext(request),
    });
    if (rotated) await adoptSession(useCases, request, reply, rotated.token);
    if (!confirmation.recoveryCodes) {
      const fallback = `${HOME}?notice=factor-added`;
      const userId = session.user.id;
      return sendToLanding(useCases, request, reply, { userId, fallback, justSignedIn: false });
    }
    return showCodes(request, reply, session, confirmation.recoveryCodes, {
      heading: 'Save your recovery codes',
      intro:
        'Two-factor authentication is on. If you lose your phone or cannot get your codes, these recovery codes are how you get back into your account.',
    });
  };

  return {
    web,
    withUser: (handler) => withSignedInUser(useCases, handler),
    showOverview,
    showCodes,
    afterConfirmation,
  };
}
