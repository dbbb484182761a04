import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import { recoveryCodeSetLabel } from '../../service/recovery-codes/prepare-recovery-code-set.js';
import type { RecoveryOutcome } from '../../service/recovery-codes/verify-recovery-code.js';
import type { SecondFactorProof } from '../../service/sign-in/complete-second-factor.js';
import { recoveryCodeFormPage, secondStepPage } from '../pages/sign-in-pages.js';
import { sendToLanding } from '../return-to.js';
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
import { sendRecoveryOutcome } from './recovery-outcome-page.js';
import { adoptSession } from './session-guards.js';

/**
 * The second sign-in step. Every route needs a session in the `second_factor` stage (a correct password
 * less than 10 minutes ago); success rotates the session token into a signed-in one.
 */
export function registerSecondFactorRoutes(app: FastifyInstance, web: WebOptions): void {
  const { useCases } = web;
  const csrf = { preHandler: app.csrfProtection };

  const pending = (request: FastifyRequest) =>
    request.auth?.record.stage === 'second_factor' ? request.auth : undefined;

  const expired = (request: FastifyRequest, reply: FastifyReply) =>
    sendMessagePage(request, reply, useCases, {
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
    if (!extra.error && (await useCases.isSecondFactorLocked(session.user.id))) extra.error = 'mfa_locked';
    return sendPage(request, reply, useCases, {
      title: 'Two-factor authentication',
      status: extra.error ? statusFor(extra.error) : 200,
      body: secondStepPage({
        csrf: csrfToken(request, reply),
        choices: await useCases.secondFactorChoices({ userId: session.user.id }),
        error: extra.error && failureMessage(reply, { ...extra, error: extra.error }),
        emailSent: extra.emailSent,
        notice: extra.notice,
      }),
    });
  };

  /**
   * Completes the step with `proof` through the one sign-in flow: on success the signed-in session (and, when
   * the box was ticked, the remembered browser) goes into cookies; a failure comes back for the route to show.
   */
  const complete = async (request: FastifyRequest, reply: FastifyReply, proof: SecondFactorProof) => {
    const result = await useCases.completeSecondFactor({
      sessionToken: request.sessionToken ?? '',
      proof,
      remember: field(request, 'remember', 8) === 'yes',
      context: requestContext(request),
    });
    if (!result.ok) return result;
    await adoptSession(useCases, request, reply, result.value.token);
    const device = result.value.rememberedBrowser;
    if (device) setDeviceCookie(reply, device.value, device.expiresAt);
    return result;
  };

  /** The page after a second factor that is not a recovery code: on to where the sign-in leads. */
  const afterStep = async (
    request: FastifyRequest,
    reply: FastifyReply,
    result: Awaited<ReturnType<typeof complete>>,
    failure: { emailSent?: boolean } = {},
  ) => {
    if (result.ok)
      return sendToLanding(useCases, request, reply, { userId: result.value.userId, justSignedIn: true });
    if (result.error === 'sign_in_expired') return expired(request, reply);
    return showStep(request, reply, { ...result, ...failure });
  };

  app.get('/sign-in/two-factor', async (request, reply) => showStep(request, reply));

  // The challenge is bound to this half-signed-in session: an answer made for another sign-in is refused.
  app.post('/sign-in/two-factor/security-key/options', csrf, async (request, reply) =>
    sendKeyOptions(
      reply,
      await useCases.secondFactorKeyOptions({ sessionToken: request.sessionToken ?? '' }),
    ),
  );

  app.post('/sign-in/two-factor/security-key', csrf, async (request, reply) => {
    if (!pending(request)) return expired(request, reply);
    const response = keyResponseField<AuthenticationResponseJSON>(request);
    if (!response) return showStep(request, reply, { error: 'security_key_failed' });
    return afterStep(request, reply, await complete(request, reply, { method: 'security_key', response }));
  });

  app.post('/sign-in/two-factor/totp', csrf, async (request, reply) => {
    if (!pending(request)) return expired(request, reply);
    const code = field(request, 'code', 64);
    return afterStep(request, reply, await complete(request, reply, { method: 'totp', code }));
  });

  app.post('/sign-in/two-factor/email/send', csrf, async (request, reply) => {
    if (!pending(request)) return expired(request, reply);
    const sent = await useCases.sendSignInEmailCode({
      sessionToken: request.sessionToken ?? '',
      context: requestContext(request),
    });
    if (!sent.ok)
      return sent.error === 'sign_in_expired' ? expired(request, reply) : showStep(request, reply, sent);
    return showStep(request, reply, { emailSent: true, notice: 'We sent you a new code.' });
  });

  app.post('/sign-in/two-factor/email', csrf, async (request, reply) => {
    if (!pending(request)) return expired(request, reply);
    const code = field(request, 'code', 64);
    const result = await complete(request, reply, { method: 'email', code });
    return afterStep(request, reply, result, { emailSent: true });
  });

  const showRecoveryForm = async (
    request: FastifyRequest,
    reply: FastifyReply,
    failure?: { error: ErrorCode; retryAfterSeconds?: number },
  ) =>
    sendPage(request, reply, useCases, {
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
    const status = session && (await useCases.getRecoveryCodeStatus({ userId: session.user.id }));
    return status?.hasCodes ? recoveryCodeSetLabel(status.generatedAt) : undefined;
  };

  app.get('/sign-in/recovery', async (request, reply) => {
    if (!pending(request)) return redirect(reply, '/sign-in?notice=session-expired');
    return showRecoveryForm(request, reply);
  });

  app.post('/sign-in/recovery', csrf, async (request, reply) => {
    const session = pending(request);
    if (!session) return expired(request, reply);
    const code = field(request, 'code', 256);
    const result = await complete(request, reply, { method: 'recovery_code', code });
    if (!result.ok)
      return result.error === 'sign_in_expired'
        ? expired(request, reply)
        : showRecoveryForm(request, reply, result);
    return sendRecoveryOutcome(request, reply, useCases, {
      use: 'sign_in',
      outcome: result.value.recovery as RecoveryOutcome,
      user: session.user,
    });
  });
}
