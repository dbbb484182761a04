import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import { accountLabel } from '../../service/accounts/account-label.js';
import { sendEmailOtp, verifyEmailOtp } from '../../service/factors/email-otp.js';
import { secondFactorChoices } from '../../service/factors/manage-mfa.js';
import { verifyTotp } from '../../service/factors/verify-totp.js';
import {
  securityKeyAuthenticationOptions,
  verifySecurityKey,
} from '../../service/factors/webauthn/authenticate-key.js';
import { recoveryCodeSetLabel } from '../../service/recovery-codes/prepare-recovery-code-set.js';
import { getRecoveryCodeStatus } from '../../service/recovery-codes/recovery-code-status.js';
import { verifyRecoveryCode } from '../../service/recovery-codes/verify-recovery-code.js';
import { rememberDevice } from '../../service/sessions/remembered-devices.js';
import { rotateSession } from '../../service/sessions/sessions.js';
import { isSecondFactorLocked } from '../../service/throttle/throttle-counters.js';
import {
  mfaDisabledAfterRecoveryPage,
  recoveryCodeFormPage,
  recoverySignedInPage,
  secondStepPage,
} from '../pages/sign-in-pages.js';
import { recoveryCodesShownPage } from '../pages/two-factor-pages.js';
import { hasReturnAddress, landingAfterSignIn, sendToLanding } from '../return-to.js';
import { keyResponseField, sendKeyOptions } from '../security-key-fields.js';
import {
  csrfToken,
  failureMessage,
  field,
  redirect,
  requestContext,
  SIGN_IN_LINK,
  sendMessagePage,
  sendPage,
  setDeviceCookie,
  statusFor,
} from '../web-context.js';
import type { WebOptions } from '../web-options.js';
import { adoptSession } from './session-guards.js';

/**
 * The second sign-in step. Every route needs a session in the `second_factor` stage (a correct password
 * less than 10 minutes ago); success rotates the session token into a signed-in one.
 */
export function registerSecondFactorRoutes(app: FastifyInstance, web: WebOptions): void {
  const { deps } = web;
  const csrf = { preHandler: app.csrfProtection };

  const pending = (request: FastifyRequest) =>
    request.auth?.record.stage === 'second_factor' ? request.auth : undefined;

  const expired = (request: FastifyRequest, reply: FastifyReply) =>
    sendMessagePage(request, reply, deps, {
      code: 'sign_in_expired',
      heading: 'Sign in again',
      link: SIGN_IN_LINK,
    });

  const showStep = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: { error?: ErrorCode; retryAfterSeconds?: number; emailSent?: boolean; notice?: string } = {},
  ) => {
    const session = pending(request);
    if (!session) return redirect(reply, '/sign-in?notice=session-expired');
    // A locked account is told so up front, not after a code it cannot get accepted anyway.
    if (!extra.error && (await isSecondFactorLocked(deps, session.user.id))) extra.error = 'mfa_locked';
    return sendPage(request, reply, deps, {
      title: 'Two-factor authentication',
      status: extra.error ? statusFor(extra.error) : 200,
      body: secondStepPage({
        csrf: csrfToken(request, reply),
        choices: await secondFactorChoices(deps, { userId: session.user.id }),
        error: extra.error && failureMessage(reply, { ...extra, error: extra.error }),
        emailSent: extra.emailSent,
        notice: extra.notice,
      }),
    });
  };

  const signedIn = async (request: FastifyRequest, reply: FastifyReply, method: string) => {
    const token = request.sessionToken as string;
    const rotated = await rotateSession(deps, {
      token,
      stage: 'signed_in',
      method,
      context: requestContext(request),
    });
    if (!rotated) return false;
    await adoptSession(deps, request, reply, rotated.token);
    if (field(request, 'remember', 8) === 'yes') {
      const userId = request.auth?.user.id as string;
      const device = await rememberDevice(deps, { userId, context: requestContext(request) });
      if (device) setDeviceCookie(reply, device.cookieValue, device.expiresAt);
    }
    return true;
  };

  app.get('/sign-in/two-factor', async (request, reply) => showStep(request, reply));

  // The challenge is bound to this half-signed-in session: an answer made for another sign-in is refused.
  app.post('/sign-in/two-factor/security-key/options', csrf, async (request, reply) => {
    const session = pending(request);
    if (!session) return sendKeyOptions(reply, { ok: false, error: 'sign_in_expired' });
    const options = await securityKeyAuthenticationOptions(deps, {
      userId: session.user.id,
      binding: request.sessionToken as string,
      ceremony: 'second_factor',
    });
    return sendKeyOptions(reply, options);
  });

  app.post('/sign-in/two-factor/security-key', csrf, async (request, reply) => {
    const session = pending(request);
    if (!session) return expired(request, reply);
    const response = keyResponseField<AuthenticationResponseJSON>(request);
    if (!response) return showStep(request, reply, { error: 'security_key_failed' });
    const result = await verifySecurityKey(deps, {
      userId: session.user.id,
      binding: request.sessionToken as string,
      response,
      context: requestContext(request),
    });
    if (!result.ok) return showStep(request, reply, result);
    if (!(await signedIn(request, reply, 'webauthn'))) return expired(request, reply);
    return sendToLanding(deps, request, reply, { userId: session.user.id, justSignedIn: true });
  });

  app.post('/sign-in/two-factor/totp', csrf, async (request, reply) => {
    const session = pending(request);
    if (!session) return expired(request, reply);
    const code = field(request, 'code', 64);
    if (!code.trim()) return showStep(request, reply, { error: 'code_required' });
    const result = await verifyTotp(deps, {
      userId: session.user.id,
      code,
      context: requestContext(request),
    });
    if (!result.ok) return showStep(request, reply, result);
    if (!(await signedIn(request, reply, 'totp'))) return expired(request, reply);
    return sendToLanding(deps, request, reply, { userId: session.user.id, justSignedIn: true });
  });

  app.post('/sign-in/two-factor/email/send', csrf, async (request, reply) => {
    const session = pending(request);
    if (!session) return expired(request, reply);
    const choices = await secondFactorChoices(deps, { userId: session.user.id });
    if (!choices.email) return showStep(request, reply, { error: 'factor_not_found' });
    const sent = await sendEmailOtp(deps, {
      userId: session.user.id,
      attemptId: session.record.attemptId,
      context: requestContext(request),
    });
    if (!sent.ok) return showStep(request, reply, sent);
    return showStep(request, reply, { emailSent: true, notice: 'We sent you a new code.' });
  });

  app.post('/sign-in/two-factor/email', csrf, async (request, reply) => {
    const session = pending(request);
    if (!session) return expired(request, reply);
    const code = field(request, 'code', 64);
    if (!code.trim()) return showStep(request, reply, { error: 'code_required', emailSent: true });
    const result = await verifyEmailOtp(deps, {
      userId: session.user.id,
      attemptId: session.record.attemptId,
      code,
      context: requestContext(request),
    });
    if (!result.ok) return showStep(request, reply, { ...result, emailSent: true });
    if (!(await signedIn(request, reply, 'email'))) return expired(request, reply);
    return sendToLanding(deps, request, reply, { userId: session.user.id, justSignedIn: true });
  });

  const showRecoveryForm = async (
    request: FastifyRequest,
    reply: FastifyReply,
    failure?: { error: ErrorCode; retryAfterSeconds?: number },
  ) =>
    sendPage(request, reply, deps, {
      title: 'Use a recovery code',
      status: failure ? statusFor(failure.error) : 200,
      body: recoveryCodeFormPage({
        csrf: csrfToken(request, reply),
        error: failure && failureMessage(reply, failure),
        currentSet: failure?.error === 'invalid_code' ? await currentSetLabel(request) : undefined,
      }),
    });

  /**
   * After a wrong code, the current set's label, which the person's sheet also carries: a code from a
   * replaced set is then told apart from a typo by the person (docs/decisions/0005-replaced-set-codes.md).
   */
  const currentSetLabel = async (request: FastifyRequest) => {
    const session = pending(request);
    const status = session && (await getRecoveryCodeStatus(deps, { userId: session.user.id }));
    return status?.hasCodes ? recoveryCodeSetLabel(status.generatedAt) : undefined;
  };

  /** After a recovery code, the page's way on to the return address the person came with, if any. */
  const continueHref = async (request: FastifyRequest, reply: FastifyReply, userId: string) =>
    hasReturnAddress(request)
      ? landingAfterSignIn(deps, request, reply, { userId, justSignedIn: true })
      : undefined;

  app.get('/sign-in/recovery', async (request, reply) => {
    if (!pending(request)) return redirect(reply, '/sign-in?notice=session-expired');
    return showRecoveryForm(request, reply);
  });

  app.post('/sign-in/recovery', csrf, async (request, reply) => {
    const session = pending(request);
    if (!session) return expired(request, reply);
    const code = field(request, 'code', 256);
    if (!code.trim()) return showRecoveryForm(request, reply, { error: 'code_required' });
    const result = await verifyRecoveryCode(deps, {
      userId: session.user.id,
      code,
      context: requestContext(request),
    });
    if (!result.ok) return showRecoveryForm(request, reply, result);
    if (!(await signedIn(request, reply, 'recovery_code'))) return expired(request, reply);
    const outcome = result.value;
    if (outcome.policy === 'disable_mfa') {
      return sendPage(request, reply, deps, {
        title: 'Two-factor authentication is off',
        // The return address stays for the two-factor setup offered here; the page also links on.
        body: mfaDisabledAfterRecoveryPage({
          continueHref: hasReturnAddress(request) ? '/sign-in' : undefined,
        }),
      });
    }
    if (outcome.policy === 'rotate') {
      return sendPage(request, reply, deps, {
        title: 'Your new recovery codes',
        body: recoveryCodesShownPage({
          csrf: csrfToken(request, reply),
          set: outcome.replacement,
          heading: 'Your new recovery codes',
          intro:
            'You signed in with a recovery code. As this site requires, your old codes were replaced: these are your new ones.',
          siteName: deps.options.issuer,
          account: accountLabel(session.user),
          doneHref: await continueHref(request, reply, session.user.id),
        }),
      });
    }
    return sendPage(request, reply, deps, {
      title: 'Signed in',
      body: recoverySignedInPage({
        ...outcome,
        csrf: csrfToken(request, reply),
        continueHref: await continueHref(request, reply, session.user.id),
      }),
    });
  });
}
