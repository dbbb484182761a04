import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import type { ErrorCode } from '../../core/errors.js';
import { accountLabel } from '../../service/accounts/account-label.js';
import type { FactorConfirmation } from '../../service/factors/complete-enrollment.js';
import { confirmTotp } from '../../service/factors/confirm-totp.js';
import {
  confirmEmailFactor,
  resendEmailFactorCode,
  startEmailFactor,
} from '../../service/factors/email-factor.js';
import { enrollTotp, pendingTotpEnrollment, type TotpEnrollment } from '../../service/factors/enroll-totp.js';
import {
  disableMfa,
  getMfaOverview,
  type MfaOverview,
  removeFactor,
} from '../../service/factors/manage-mfa.js';
import { securityKeyAuthenticationOptions } from '../../service/factors/webauthn/authenticate-key.js';
import { renameSecurityKey } from '../../service/factors/webauthn/manage-keys.js';
import {
  registerSecurityKey,
  securityKeyRegistrationOptions,
} from '../../service/factors/webauthn/register-key.js';
import { generateRecoveryCodes } from '../../service/recovery-codes/generate-recovery-codes.js';
import type { IssuedRecoveryCodeSet } from '../../service/recovery-codes/prepare-recovery-code-set.js';
import { forgetDevices, identifyDevice } from '../../service/sessions/remembered-devices.js';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import { rotateSession } from '../../service/sessions/sessions.js';
import {
  CODES_SHOWN_PATH,
  emailEnrollPage,
  overviewPage,
  recoveryCodesShownPage,
  stepUpPage,
  totpEnrollPage,
} from '../pages/two-factor-pages.js';
import { sendToLanding } from '../return-to.js';
import { keyResponseField, sendKeyOptions } from '../security-key-fields.js';
import {
  clearDeviceCookie,
  csrfToken,
  DEVICE_COOKIE,
  field,
  HOME,
  messageFor,
  redirect,
  requestContext,
  sendMessagePage,
  sendPage,
  statusFor,
} from '../web-context.js';
import { noticeFor, type WebOptions } from '../web-options.js';
import { adoptSession, withSignedInUser } from './session-guards.js';
import { stepUpFailure } from './step-up.js';

/** Settings → Two-factor authentication: methods, recovery codes, and the changes that need step-up. */
export function registerTwoFactorRoutes(app: FastifyInstance, web: WebOptions): void {
  const { deps } = web;
  const csrf = { preHandler: app.csrfProtection };

  const withUser = (
    handler: (request: FastifyRequest, reply: FastifyReply, session: ActiveSession) => Promise<FastifyReply>,
  ) => withSignedInUser(deps, handler);

  const showOverview = async (
    request: FastifyRequest,
    reply: FastifyReply,
    session: ActiveSession,
    error?: ErrorCode,
  ) =>
    sendPage(request, reply, deps, {
      title: 'Two-factor authentication',
      status: error ? statusFor(error) : 200,
      body: overviewPage({
        csrf: csrfToken(request, reply),
        overview: await getMfaOverview(deps, { userId: session.user.id }),
        thisBrowser: (
          await identifyDevice(deps, { userId: session.user.id, cookieValue: request.cookies[DEVICE_COOKIE] })
        )?.id,
        notice: noticeFor(request.query),
        error: error && messageFor(error),
      }),
    });

  /** Each completed MFA step gets a fresh session token (OWASP Session CS: renew on privilege change). */
  const rotate = async (
    request: FastifyRequest,
    reply: FastifyReply,
    method?: 'totp' | 'email' | 'webauthn',
  ) => {
    const rotated = await rotateSession(deps, {
      token: request.sessionToken as string,
      stage: 'signed_in',
      // A confirmed enrolment code is a second factor proven in this signed-in session.
      method,
      context: requestContext(request),
    });
    if (rotated) await adoptSession(deps, request, reply, rotated.token);
  };

  const showCodes = (
    request: FastifyRequest,
    reply: FastifyReply,
    session: ActiveSession,
    set: IssuedRecoveryCodeSet,
    copy: { heading: string; intro: string },
  ) =>
    sendPage(request, reply, deps, {
      title: copy.heading,
      body: recoveryCodesShownPage({
        csrf: csrfToken(request, reply),
        set,
        ...copy,
        siteName: deps.options.issuer,
        account: accountLabel(session.user),
      }),
    });

  const afterConfirmation = async (
    request: FastifyRequest,
    reply: FastifyReply,
    session: ActiveSession,
    confirmation: FactorConfirmation,
    method: 'totp' | 'email' | 'webauthn',
  ) => {
    await rotate(request, reply, method);
    if (!confirmation.recoveryCodes) {
      const fallback = `${HOME}?notice=factor-added`;
      const userId = session.user.id;
      return sendToLanding(deps, request, reply, { userId, fallback, justSignedIn: false });
    }
    return showCodes(request, reply, session, confirmation.recoveryCodes, {
      heading: 'Save your recovery codes',
      intro:
        'Two-factor authentication is on. If you lose your phone or cannot get your codes, these recovery codes are how you get back into your account.',
    });
  };

  app.get(
    HOME,
    withUser(async (request, reply, session) => showOverview(request, reply, session)),
  );

  // Security keys and passkeys. Each ceremony's challenge is bound to this session (its cookie token).
  app.post(
    `${HOME}/security-keys/options`,
    csrf,
    withUser(async (request, reply, session) =>
      sendKeyOptions(
        reply,
        await securityKeyRegistrationOptions(deps, {
          userId: session.user.id,
          binding: request.sessionToken as string,
        }),
      ),
    ),
  );

  app.post(
    `${HOME}/security-keys`,
    csrf,
    withUser(async (request, reply, session) => {
      const response = keyResponseField<RegistrationResponseJSON>(request);
      if (!response) return showOverview(request, reply, session, 'security_key_failed');
      const registered = await registerSecurityKey(deps, {
        userId: session.user.id,
        binding: request.sessionToken as string,
        name: field(request, 'name', 256),
        response,
        context: requestContext(request),
      });
      if (!registered.ok) return showOverview(request, reply, session, registered.error);
      return afterConfirmation(request, reply, session, registered.value, 'webauthn');
    }),
  );

  app.post(
    `${HOME}/security-keys/:factorId/rename`,
    csrf,
    withUser(async (request, reply, session) => {
      const { factorId } = request.params as { factorId: string };
      const renamed = await renameSecurityKey(deps, {
        userId: session.user.id,
        factorId: factorId.slice(0, 64),
        name: field(request, 'name', 256),
        context: requestContext(request),
      });
      if (!renamed.ok) return showOverview(request, reply, session, renamed.error);
      return redirect(reply, `${HOME}?notice=key-renamed`);
    }),
  );

  app.post(
    `${HOME}/step-up/security-key/options`,
    csrf,
    withUser(async (request, reply, session) =>
      sendKeyOptions(
        reply,
        await securityKeyAuthenticationOptions(deps, {
          userId: session.user.id,
          binding: request.sessionToken as string,
          ceremony: 'step_up',
        }),
      ),
    ),
  );

  const showTotpEnrollment = async (
    request: FastifyRequest,
    reply: FastifyReply,
    enrollment: TotpEnrollment,
    error?: ErrorCode,
  ) =>
    sendPage(request, reply, deps, {
      title: 'Set up an authenticator app',
      status: error ? statusFor(error) : 200,
      body: totpEnrollPage({
        csrf: csrfToken(request, reply),
        factorId: enrollment.factorId,
        secretBase32: enrollment.secretBase32,
        qrSvg: await QRCode.toString(enrollment.uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),
        issuer: deps.options.issuer,
        error: error && messageFor(error),
      }),
    });

  app.post(
    `${HOME}/totp/start`,
    csrf,
    withUser(async (request, reply, session) => {
      const enrollment = await enrollTotp(deps, {
        userId: session.user.id,
        context: requestContext(request),
      });
      if (!enrollment.ok) return showOverview(request, reply, session, enrollment.error);
      return showTotpEnrollment(request, reply, enrollment.value);
    }),
  );

  app.post(
    `${HOME}/totp/confirm`,
    csrf,
    withUser(async (request, reply, session) => {
      const factorId = field(request, 'factorId', 64);
      const code = field(request, 'code', 64);
      const input = { userId: session.user.id, factorId, code, context: requestContext(request) };
      const confirmed = code.trim() ? await confirmTotp(deps, input) : undefined;
      if (confirmed?.ok) return afterConfirmation(request, reply, session, confirmed.value, 'totp');
      const error: ErrorCode = confirmed ? confirmed.error : 'code_required';
      const pendingEnrollment = await pendingTotpEnrollment(deps, { userId: session.user.id, factorId });
      if (!pendingEnrollment.ok) return showOverview(request, reply, session, 'enrollment_not_found');
      return showTotpEnrollment(request, reply, pendingEnrollment.value, error);
    }),
  );

  const showEmailEnrollment = (
    request: FastifyRequest,
    reply: FastifyReply,
    session: ActiveSession,
    factorId: string,
    extra: { error?: ErrorCode; notice?: string } = {},
  ) =>
    sendPage(request, reply, deps, {
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

  // Forgetting remembered browsers only takes a shortcut away: no step-up, like signing out.
  app.post(
    `${HOME}/devices/:deviceId/forget`,
    csrf,
    withUser(async (request, reply, session) => {
      const { deviceId } = request.params as { deviceId: string };
      const forgotten = await forgetDevices(deps, {
        userId: session.user.id,
        deviceId: deviceId.slice(0, 64),
        reason: 'user_one',
        context: requestContext(request),
      });
      if (forgotten === 0) return showOverview(request, reply, session, 'not_found');
      return redirect(reply, `${HOME}?notice=device-forgotten`);
    }),
  );

  app.post(
    `${HOME}/devices/forget-all`,
    csrf,
    withUser(async (request, reply, session) => {
      await forgetDevices(deps, {
        userId: session.user.id,
        reason: 'user_all',
        context: requestContext(request),
      });
      clearDeviceCookie(reply);
      return redirect(reply, `${HOME}?notice=devices-forgotten`);
    }),
  );

  app.post(
    `${HOME}/email/start`,
    csrf,
    withUser(async (request, reply, session) => {
      const started = await startEmailFactor(deps, {
        userId: session.user.id,
        context: requestContext(request),
      });
      if (!started.ok) return showOverview(request, reply, session, started.error);
      return showEmailEnrollment(request, reply, session, started.value.factorId);
    }),
  );

  app.post(
    `${HOME}/email/resend`,
    csrf,
    withUser(async (request, reply, session) => {
      const factorId = field(request, 'factorId', 64);
      const sent = await resendEmailFactorCode(deps, {
        userId: session.user.id,
        factorId,
        context: requestContext(request),
      });
      if (!sent.ok) return showOverview(request, reply, session, sent.error);
      return showEmailEnrollment(request, reply, session, factorId, { notice: 'We sent you a new code.' });
    }),
  );

  app.post(
    `${HOME}/email/confirm`,
    csrf,
    withUser(async (request, reply, session) => {
      const factorId = field(request, 'factorId', 64);
      const code = field(request, 'code', 64);
      if (!code.trim())
        return showEmailEnrollment(request, reply, session, factorId, { error: 'code_required' });
      const confirmed = await confirmEmailFactor(deps, {
        userId: session.user.id,
        factorId,
        code,
        context: requestContext(request),
      });
      if (confirmed.ok) return afterConfirmation(request, reply, session, confirmed.value, 'email');
      if (confirmed.error === 'enrollment_not_found')
        return showOverview(request, reply, session, confirmed.error);
      return showEmailEnrollment(request, reply, session, factorId, { error: confirmed.error });
    }),
  );

  // Where Back lands from a page of codes (its history entry is renamed to this address): never the codes.
  app.get(
    CODES_SHOWN_PATH,
    withUser(async (_request, reply) => redirect(reply, `${HOME}?notice=codes-shown-once`)),
  );

  app.post(
    `${HOME}/recovery-codes/acknowledge`,
    csrf,
    withUser(async (request, reply, session) => {
      if (field(request, 'saved', 16) !== 'yes') {
        return sendMessagePage(request, reply, deps, {
          code: 'codes_not_acknowledged',
          heading: 'Save your recovery codes',
          extra: 'If you no longer have the codes page, generate a new set.',
          link: { href: `${HOME}/recovery-codes/regenerate`, text: 'Generate new recovery codes' },
        });
      }
      // Someone sent here by a protected app that needs a second factor goes back to it now.
      const fallback = `${HOME}?notice=codes-saved`;
      const userId = session.user.id;
      return sendToLanding(deps, request, reply, { userId, fallback, justSignedIn: false });
    }),
  );

  registerStepUpAction(app, web, {
    path: `${HOME}/recovery-codes/regenerate`,
    withUser,
    page: {
      heading: 'Generate new recovery codes',
      explanation: 'A new set replaces your current recovery codes: every old code stops working at once.',
      submit: 'Generate new codes',
    },
    act: async (request, reply, session) => {
      const generated = await generateRecoveryCodes(deps, {
        userId: session.user.id,
        context: requestContext(request),
      });
      if (!generated.ok) return showOverview(request, reply, session, generated.error);
      await rotate(request, reply);
      return showCodes(request, reply, session, generated.value, {
        heading: 'Your new recovery codes',
        intro: 'Your previous recovery codes no longer work.',
      });
    },
  });

  registerStepUpAction(app, web, {
    path: `${HOME}/factors/:factorId/remove`,
    withUser,
    page: {
      heading: 'Remove a two-factor method',
      explanation: 'You will no longer be able to sign in with this method.',
      submit: 'Remove',
      danger: true,
    },
    missing: {
      check: (request, overview) => {
        const { factorId } = request.params as { factorId: string };
        return overview.factors.some((factor) => factor.id === factorId) ? undefined : 'factor_not_found';
      },
      refuse: showOverview,
    },
    act: async (request, reply, session) => {
      const { factorId } = request.params as { factorId: string };
      const removed = await removeFactor(deps, {
        userId: session.user.id,
        factorId,
        context: requestContext(request),
      });
      if (!removed.ok) return showOverview(request, reply, session, removed.error);
      await rotate(request, reply);
      return redirect(reply, `${HOME}?notice=factor-removed`);
    },
  });

  registerStepUpAction(app, web, {
    path: `${HOME}/disable`,
    withUser,
    page: {
      heading: 'Turn off two-factor authentication',
      explanation:
        'Your account will be protected by your password only, and your recovery codes will be deleted.',
      submit: 'Turn off two-factor authentication',
      danger: true,
    },
    act: async (request, reply, session) => {
      const disabled = await disableMfa(deps, { userId: session.user.id, context: requestContext(request) });
      if (!disabled.ok) return showOverview(request, reply, session, disabled.error);
      await rotate(request, reply);
      return redirect(reply, `${HOME}?notice=mfa-disabled`);
    },
  });
}

type Handler = (
  request: FastifyRequest,
  reply: FastifyReply,
  session: ActiveSession,
) => Promise<FastifyReply>;

/**
 * A GET showing the re-authentication form and a POST that checks it before acting (STANDARDS req 11).
 * The action's URL (with its parameters) is the form's target, so nothing is carried in hidden fields.
 */
function registerStepUpAction(
  app: FastifyInstance,
  web: WebOptions,
  action: {
    path: string;
    withUser: (handler: Handler) => (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;
    page: { heading: string; explanation: string; submit: string; danger?: boolean };
    act: Handler;
    /**
     * When the action's target does not exist (another id in the address), the refusal to show at once,
     * before any step-up is asked for: there is nothing to confirm.
     */
    missing?: {
      check: (request: FastifyRequest, overview: MfaOverview) => ErrorCode | undefined;
      refuse: (
        request: FastifyRequest,
        reply: FastifyReply,
        session: ActiveSession,
        error: ErrorCode,
      ) => Promise<FastifyReply>;
    };
  },
): void {
  const { deps } = web;
  const show = (request: FastifyRequest, reply: FastifyReply, overview: MfaOverview, error?: ErrorCode) =>
    sendPage(request, reply, deps, {
      title: action.page.heading,
      status: error ? statusFor(error) : 200,
      body: stepUpPage({
        csrf: csrfToken(request, reply),
        ...action.page,
        action: request.url.split('?')[0] as string,
        hasTotp: overview.factors.some((factor) => factor.kind === 'totp'),
        hasSecurityKey: overview.securityKeysAvailable && overview.securityKeys.length > 0,
        error: error && messageFor(error),
      }),
    });
  /** The user's methods, read once per request; undefined when the refusal for a missing target was sent. */
  const overviewUnlessMissing = async (
    request: FastifyRequest,
    reply: FastifyReply,
    session: ActiveSession,
  ) => {
    const overview = await getMfaOverview(deps, { userId: session.user.id });
    const error = action.missing?.check(request, overview);
    if (!error) return overview;
    await action.missing?.refuse(request, reply, session, error);
    return undefined;
  };
  app.get(
    action.path,
    action.withUser(async (request, reply, session) => {
      const overview = await overviewUnlessMissing(request, reply, session);
      return overview ? show(request, reply, overview) : reply;
    }),
  );
  app.post(
    action.path,
    { preHandler: app.csrfProtection },
    action.withUser(async (request, reply, session) => {
      const overview = await overviewUnlessMissing(request, reply, session);
      if (!overview) return reply;
      const failure = await stepUpFailure(deps, request, reply, session);
      if (failure) return show(request, reply, overview, failure);
      return action.act(request, reply, session);
    }),
  );
}
