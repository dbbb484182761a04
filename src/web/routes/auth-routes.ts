import { timingSafeEqual } from 'node:crypto';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import type { SignInOutcome } from '../../service/sign-in/begin-sign-in.js';
import { lostAccessPage, setupPage, signInPage, signUpPage } from '../pages/account-pages.js';
import { hasReturnAddress, landingAfterSignIn, sendToLanding } from '../return-to.js';
import {
  endPasskeyCeremony,
  keyResponseField,
  sendKeyOptions,
  startPasskeyCeremony,
} from '../security-key-fields.js';
import {
  clearSessionCookie,
  csrfToken,
  DEVICE_COOKIE,
  failureMessage,
  field,
  HOME,
  messageFor,
  redirect,
  requestContext,
  SIGN_IN_LINK,
  sendMessagePage,
  sendPage,
  setSessionCookie,
  statusFor,
} from '../web-context.js';
import { noticeFor, type WebOptions } from '../web-options.js';

export function registerAuthRoutes(app: FastifyInstance, web: WebOptions): void {
  const { useCases } = web;
  const csrf = { preHandler: app.csrfProtection };

  app.get('/', async (request, reply) =>
    redirect(reply, request.auth?.record.stage === 'signed_in' ? HOME : '/sign-in'),
  );

  const showSignIn = (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: { error?: ErrorCode; retryAfterSeconds?: number; email?: string } = {},
  ) =>
    sendPage(request, reply, useCases, {
      title: 'Sign in',
      status: extra.error ? statusFor(extra.error) : 200,
      body: signInPage({
        csrf: csrfToken(request, reply),
        error: extra.error && failureMessage(reply, { ...extra, error: extra.error }),
        notice: noticeFor(request.query),
        email: extra.email,
        signUpOpen: true,
        passkey: useCases.options.webauthn?.passkeySignIn === true,
      }),
    });

  app.get('/sign-in', async (request, reply) => {
    const signedIn = request.auth?.record.stage === 'signed_in' ? request.auth : undefined;
    if (!signedIn) return showSignIn(request, reply);
    // Asked to sign in afresh on the way back to an address (an application's prompt=login or max_age,
    // or a second factor it requires): the form again; the new sign-in replaces this session.
    if ((request.query as { reauth?: unknown }).reauth === '1' && hasReturnAddress(request))
      return showSignIn(request, reply);
    const userId = signedIn.user.id;
    return redirect(
      reply,
      await landingAfterSignIn(useCases, request, reply, { userId, justSignedIn: false }),
    );
  });

  app.post('/sign-in', csrf, async (request, reply) => {
    const email = field(request, 'email', 512);
    const result = await useCases.beginSignIn({
      email,
      password: field(request, 'password', 4096),
      rememberedBrowser: request.cookies[DEVICE_COOKIE],
      previousToken: request.sessionToken,
      context: requestContext(request),
    });
    if (!result.ok) return showSignIn(request, reply, { ...result, email });
    return sendSignInOutcome(request, reply, result.value);
  });

  app.post('/sign-in/passkey/options', csrf, async (_request, reply) =>
    sendKeyOptions(reply, await useCases.passkeySignInOptions({ binding: startPasskeyCeremony(reply) })),
  );

  // A passkey is both factors: the session starts signed in, audited as a sign-in with method `passkey`.
  app.post('/sign-in/passkey', csrf, async (request, reply) => {
    const binding = endPasskeyCeremony(request, reply);
    const response = keyResponseField<AuthenticationResponseJSON>(request);
    if (!binding || !response) return showSignIn(request, reply, { error: 'webauthn_challenge_invalid' });
    const result = await useCases.beginPasskeySignIn({
      binding,
      response,
      previousToken: request.sessionToken,
      context: requestContext(request),
    });
    if (!result.ok) return showSignIn(request, reply, result);
    return sendSignInOutcome(request, reply, result.value);
  });

  /** The one place a sign-in's outcome becomes a page: the session cookie, then on to where it leads. */
  const sendSignInOutcome = (request: FastifyRequest, reply: FastifyReply, outcome: SignInOutcome) => {
    setSessionCookie(reply, outcome.token);
    switch (outcome.kind) {
      case 'second_factor':
      case 'second_factor_locked':
        return redirect(reply, '/sign-in/two-factor');
      case 'two_factor_setup_required':
        // Signed in, but only the two-factor settings are for them until it is set up (register-web.ts
        // holds them there); a return address still comes first, and asks for the setup itself.
        return sendToLanding(useCases, request, reply, {
          userId: outcome.userId,
          justSignedIn: true,
          fallback: '/settings/two-factor?notice=mfa-required',
        });
      default:
        return sendToLanding(useCases, request, reply, { userId: outcome.userId, justSignedIn: true });
    }
  };

  app.post('/sign-out', csrf, async (request, reply) => {
    if (request.sessionToken)
      await useCases.endSession({ token: request.sessionToken, context: requestContext(request) });
    clearSessionCookie(reply);
    return redirect(reply, '/sign-in?notice=signed-out');
  });

  const showSignUp = (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: { error?: ErrorCode; email?: string } = {},
  ) =>
    sendPage(request, reply, useCases, {
      title: 'Create an account',
      status: extra.error ? statusFor(extra.error) : 200,
      body: signUpPage({
        csrf: csrfToken(request, reply),
        error: extra.error && messageFor(extra.error),
        email: extra.email,
      }),
    });

  app.get('/sign-up', async (request, reply) => {
    if (await useCases.awaitingFirstAdminSetup())
      return showSignUp(request, reply, { error: 'site_not_set_up' });
    return showSignUp(request, reply);
  });

  // The setup-link rule and the answer for an address that already has an account live in the use case
  // (service/accounts/sign-up.ts), the same for the JSON API. The answer is the same for a new address and a taken
  // one, so the page does not sign the new account in: the person signs in next, as anyone would.
  app.post('/sign-up', csrf, async (request, reply) => {
    const email = field(request, 'email', 512);
    const accepted = await useCases.signUp({
      email,
      password: field(request, 'password', 4096),
      context: requestContext(request),
    });
    if (!accepted.ok) return showSignUp(request, reply, { error: accepted.error, email });
    return redirect(reply, '/sign-in?notice=signed-up');
  });

  const setupTokenMatches = (candidate: string) => {
    const expected = web.setupToken;
    if (!expected || candidate.length !== expected.length) return false;
    return timingSafeEqual(Buffer.from(candidate), Buffer.from(expected));
  };

  const showSetup = (
    request: FastifyRequest,
    reply: FastifyReply,
    token: string,
    extra: { error?: ErrorCode; email?: string } = {},
  ) =>
    sendPage(request, reply, useCases, {
      title: 'Set up SpareKey',
      status: extra.error ? statusFor(extra.error) : 200,
      body: setupPage({
        csrf: csrfToken(request, reply),
        token,
        error: extra.error && messageFor(extra.error),
        email: extra.email,
      }),
    });

  const refuseSetup = (request: FastifyRequest, reply: FastifyReply) =>
    sendMessagePage(request, reply, useCases, { code: 'setup_token_invalid', link: SIGN_IN_LINK });

  app.get('/setup', async (request, reply) => {
    const token = String((request.query as { token?: unknown }).token ?? '');
    if (!setupTokenMatches(token) || !(await useCases.needsFirstAdmin())) return refuseSetup(request, reply);
    return showSetup(request, reply, token);
  });

  app.post('/setup', csrf, async (request, reply) => {
    const token = field(request, 'token', 256);
    if (!setupTokenMatches(token)) return refuseSetup(request, reply);
    const email = field(request, 'email', 512);
    const created = await useCases.createFirstAdmin({
      email,
      password: field(request, 'password', 4096),
      enableRecoveryCodes: field(request, 'recoveryCodes', 8) === 'on',
      context: requestContext(request),
    });
    if (!created.ok) {
      if (created.error === 'setup_token_invalid') return refuseSetup(request, reply);
      return showSetup(request, reply, token, { error: created.error, email });
    }
    const session = await useCases.startSession({
      userId: created.value.userId,
      stage: 'signed_in',
      previousToken: request.sessionToken,
      context: requestContext(request),
    });
    setSessionCookie(reply, session.token);
    return redirect(reply, `${HOME}?notice=admin-created`);
  });

  app.get('/lost-access', async (request, reply) =>
    sendPage(request, reply, useCases, {
      title: 'Lost access',
      body: lostAccessPage({ siteName: useCases.options.issuer }),
    }),
  );
}
