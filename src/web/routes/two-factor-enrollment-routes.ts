import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import { accountLabel } from '../../service/accounts/account-label.js';
import type { TotpEnrollment } from '../../service/factors/enroll-totp.js';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import { emailEnrollPage, totpEnrollPage } from '../pages/two-factor-pages.js';
import { csrfToken, field, HOME, messageFor, requestContext, sendPage, statusFor } from '../web-context.js';
import type { TwoFactorView } from './two-factor-view.js';

/** Adding an authenticator app or emailed codes: start, then confirm with a code (and resend one). */
export function registerEnrollmentRoutes(app: FastifyInstance, view: TwoFactorView): void {
  const { useCases } = view.web;
  const csrf = { preHandler: app.csrfProtection };

  const showTotpEnrollment = async (
    request: FastifyRequest,
    reply: FastifyReply,
    enrollment: TotpEnrollment,
    error?: ErrorCode,
  ) =>
    sendPage(request, reply, useCases, {
      title: 'Set up an authenticator app',
      status: error ? statusFor(error) : 200,
      body: totpEnrollPage({
        csrf: csrfToken(request, reply),
        factorId: enrollment.factorId,
        secretBase32: enrollment.secret,
        qrSvg: await qrSvg(enrollment.uri),
        issuer: useCases.options.issuer,
        error: error && messageFor(error),
      }),
    });

  const showEmailEnrollment = (
    request: FastifyRequest,
    reply: FastifyReply,
    session: ActiveSession,
    factorId: string,
    extra: { error?: ErrorCode; notice?: string } = {},
  ) =>
    sendPage(request, reply, useCases, {
      title: 'Use email codes',
      status: extra.error ? statusFor(extra.error) : 200,
      body: emailEnrollPage({
        csrf: csrfToken(request, reply),
        factorId,
        email: accountLabel(session.user),
        error: extra.error && messageFor(extra.error),
        notice: extra.notice,
      }),
    });

  async function startTotp(request: FastifyRequest, reply: FastifyReply, session: ActiveSession) {
    const enrollment = await useCases.enrollTotp({
      userId: session.user.id,
      context: requestContext(request),
    });
    if (!enrollment.ok) return view.showOverview(request, reply, session, enrollment.error);
    return showTotpEnrollment(request, reply, enrollment.value);
  }

  async function confirmTotpCode(request: FastifyRequest, reply: FastifyReply, session: ActiveSession) {
    const factorId = field(request, 'factorId', 64);
    const code = field(request, 'code', 64);
    const input = { userId: session.user.id, factorId, code, context: requestContext(request) };
    const confirmed = code.trim() ? await useCases.confirmTotp(input) : undefined;
    if (confirmed?.ok) return view.afterConfirmation(request, reply, session, confirmed.value, 'totp');
    const error: ErrorCode = confirmed ? confirmed.error : 'code_required';
    const pendingEnrollment = await useCases.pendingTotpEnrollment({ userId: session.user.id, factorId });
    if (!pendingEnrollment.ok) return view.showOverview(request, reply, session, 'enrollment_not_found');
    return showTotpEnrollment(request, reply, pendingEnrollment.value, error);
  }

  async function startEmail(request: FastifyRequest, reply: FastifyReply, session: ActiveSession) {
    const started = await useCases.startEmailFactor({
      userId: session.user.id,
      context: requestContext(request),
    });
    if (!started.ok) return view.showOverview(request, reply, session, started.error);
    return showEmailEnrollment(request, reply, session, started.value.factorId);
  }

  async function resendEmailCode(request: FastifyRequest, reply: FastifyReply, session: ActiveSession) {
    const factorId = field(request, 'factorId', 64);
    const sent = await useCases.resendEmailFactorCode({
      userId: session.user.id,
      factorId,
      context: requestContext(request),
    });
    if (!sent.ok) return view.showOverview(request, reply, session, sent.error);
    return showEmailEnrollment(request, reply, session, factorId, { notice: 'We sent you a new code.' });
  }

  async function confirmEmailCode(request: FastifyRequest, reply: FastifyReply, session: ActiveSession) {
    const factorId = field(request, 'factorId', 64);
    const code = field(request, 'code', 64);
    if (!code.trim())
      return showEmailEnrollment(request, reply, session, factorId, { error: 'code_required' });
    const confirmed = await useCases.confirmEmailFactor({
      userId: session.user.id,
      factorId,
      code,
      context: requestContext(request),
    });
    if (confirmed.ok) return view.afterConfirmation(request, reply, session, confirmed.value, 'email');
    if (confirmed.error === 'enrollment_not_found') {
      return view.showOverview(request, reply, session, confirmed.error);
    }
    return showEmailEnrollment(request, reply, session, factorId, { error: confirmed.error });
  }

  app.post(`${HOME}/totp/start`, csrf, view.withUser(startTotp));
  app.post(`${HOME}/totp/confirm`, csrf, view.withUser(confirmTotpCode));
  app.post(`${HOME}/email/start`, csrf, view.withUser(startEmail));
  app.post(`${HOME}/email/resend`, csrf, view.withUser(resendEmailCode));
  app.post(`${HOME}/email/confirm`, csrf, view.withUser(confirmEmailCode));
}

/** The otpauth URI as an SVG QR code; the qrcode package is loaded with the first enrollment page. */
async function qrSvg(uri: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
