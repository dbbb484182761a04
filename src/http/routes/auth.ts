import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { RecoveryOutcome } from '../../service/recovery-codes/verify-recovery-code.js';
import type { SignInOutcome } from '../../service/sign-in/begin-sign-in.js';
import type {
  SecondFactorCompleted,
  SecondFactorProof,
} from '../../service/sign-in/complete-second-factor.js';
import type { UseCases } from '../../service/use-cases.js';
import { apiContext, sendApiError, sendApiFailure, sessionToken } from '../api-replies.js';
import {
  Credentials,
  EmailCodeSent,
  RecoveryCodeSignInDone,
  SecondFactorCode,
  SecondFactorDone,
  SignInAnswer,
  SignInBody,
  SignUpAccepted,
} from '../schemas/auth.js';
import { answer, codeFieldErrors, errors } from '../schemas/common.js';
import { recoveryOutcomeBody } from '../schemas/recovery-outcome.js';
import { KeySignInBody, RequestOptionsAnswer } from '../schemas/security-keys.js';

const PUBLIC = { security: [] };
const SESSION = { security: [{ session: [] }] };

/**
 * The sign-in flow for apps that draw their own screens: sign-in returns a challenge (a session in
 * the `second_factor` stage), each completed step returns a new token (the old one dies).
 */
export function registerAuthRoutes(parent: FastifyInstance, useCases: UseCases): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['end users'];

  app.post(
    '/auth/sign-up',
    {
      config: { session: 'none' },
      schema: {
        ...PUBLIC,
        operationId: 'signUp',
        summary: 'Create an account; the answer is the same whether or not the address already has one',
        description:
          'A new address gets an account with the default role; an address that already has an account gets ' +
          'no second one, and its owner is emailed. Both answer 202 with the same body, so the answer does not ' +
          'tell whether an account exists: sign in next with `signIn`. While the one-time setup link of a new ' +
          'install is outstanding, sign-up answers 409 `site_not_set_up`.',
        tags,
        body: Credentials,
        response: {
          202: SignUpAccepted,
          ...errors(409),
        },
      },
    },
    async function signUp(request, reply) {
      const accepted = await useCases.signUp({
        email: request.body.email,
        password: request.body.password,
        context: apiContext(request),
      });
      return accepted.ok
        ? reply.code(202).send({ status: 'accepted' as const })
        : sendApiError(reply, accepted.error);
    },
  );

  app.post(
    '/auth/sign-in',
    {
      config: { session: 'none' },
      schema: {
        ...PUBLIC,
        operationId: 'signIn',
        summary: 'Check email and password; returns a session, or a challenge when a second factor is owed',
        tags,
        body: SignInBody,
        response: {
          200: answer(
            'The password was right: a session token and the stage it is at (`second_factor`, `signed_in`, `two_factor_setup_required`)',
            SignInAnswer,
          ),
          ...errors(429),
        },
      },
    },
    async function signIn(request, reply) {
      const result = await useCases.beginSignIn({
        email: request.body.email,
        password: request.body.password,
        rememberedBrowser: request.body.rememberedBrowser,
        context: apiContext(request),
      });
      if (!result.ok) return sendApiFailure(reply, result);
      return signInBody(result.value);
    },
  );

  /** The one place a sign-in's outcome becomes JSON. */
  const signInBody = (outcome: SignInOutcome) => {
    const noMethods = { securityKey: false, totp: false, email: false, recoveryCode: false };
    switch (outcome.kind) {
      case 'second_factor':
        return { token: outcome.token, stage: 'second_factor' as const, secondFactors: outcome.methods };
      case 'second_factor_locked':
        return {
          token: outcome.token,
          stage: 'second_factor' as const,
          secondFactors: outcome.methods,
          secondFactorLocked: true,
        };
      case 'remembered_browser':
        return {
          token: outcome.token,
          stage: 'signed_in' as const,
          secondFactors: noMethods,
          rememberedBrowser: true,
        };
      case 'two_factor_setup_required':
        return { token: outcome.token, stage: outcome.kind, secondFactors: noMethods };
      default:
        return { token: outcome.token, stage: 'signed_in' as const, secondFactors: noMethods };
    }
  };

  /** Completes the second step with `proof` through the one sign-in flow. */
  const complete = (
    request: Parameters<typeof apiContext>[0] & { body: { rememberBrowser?: boolean } },
    proof: SecondFactorProof,
  ) =>
    useCases.completeSecondFactor({
      sessionToken: sessionToken(request),
      proof,
      remember: request.body.rememberBrowser === true,
      context: apiContext(request),
    });

  /** The one place a completed second step becomes JSON (a recovery code's route adds its policy's outcome). */
  const completedBody = (done: SecondFactorCompleted) => ({
    token: done.token,
    stage: done.twoFactorSetupRequired ? ('two_factor_setup_required' as const) : ('signed_in' as const),
    ...(done.rememberedBrowser && {
      rememberedBrowser: {
        token: done.rememberedBrowser.value,
        expiresAt: done.rememberedBrowser.expiresAt.toISOString(),
      },
    }),
  });

  app.post(
    '/auth/second-factor/totp',
    {
      config: { session: 'second_factor', fieldErrors: codeFieldErrors.otp },
      schema: {
        ...SESSION,
        operationId: 'signInWithTotp',
        summary: 'Complete sign-in with an authenticator code',
        tags,
        body: SecondFactorCode,
        response: {
          200: answer('Signed in: the new session token', SecondFactorDone),
          ...errors(409, 423, 429, 503),
        },
      },
    },
    async function signInWithTotp(request, reply) {
      const done = await complete(request, { method: 'totp', code: request.body.code });
      return done.ok ? completedBody(done.value) : sendApiFailure(reply, done);
    },
  );

  app.post(
    '/auth/second-factor/security-key/options',
    {
      config: { session: 'second_factor' },
      schema: {
        ...SESSION,
        operationId: 'startSignInWithSecurityKey',
        summary:
          "A challenge for the account's keys, bound to this half-signed-in token (5 minutes, single use)",
        description:
          'Pass `options` to `startAuthentication({ optionsJSON: options })` of @simplewebauthn/browser, then ' +
          'send the answer to `signInWithSecurityKey` with the same token.',
        tags,
        response: {
          200: answer(
            'The options for navigator.credentials.get(), good for 5 minutes',
            RequestOptionsAnswer,
          ),
          ...errors(404),
        },
      },
    },
    async function startSignInWithSecurityKey(request, reply) {
      const options = await useCases.secondFactorKeyOptions({ sessionToken: sessionToken(request) });
      if (!options.ok) return sendApiFailure(reply, options);
      return reply.header('cache-control', 'no-store').send({ options: options.value });
    },
  );

  app.post(
    '/auth/second-factor/security-key',
    {
      config: { session: 'second_factor' },
      schema: {
        ...SESSION,
        operationId: 'signInWithSecurityKey',
        summary: "Complete sign-in with a security key's answer to the challenge of this sign-in",
        tags,
        body: KeySignInBody,
        response: {
          200: answer('Signed in: the new session token', SecondFactorDone),
          ...errors(423, 429),
        },
      },
    },
    async function signInWithSecurityKey(request, reply) {
      const done = await complete(request, { method: 'security_key', response: request.body.response });
      return done.ok ? completedBody(done.value) : sendApiFailure(reply, done);
    },
  );

  app.post(
    '/auth/second-factor/email/send',
    {
      config: { session: 'second_factor' },
      schema: {
        ...SESSION,
        operationId: 'sendSignInEmailCode',
        summary: 'Email a sign-in code (a resend kills the previous one)',
        tags,
        response: {
          202: answer("A code is on its way to the account's address", EmailCodeSent),
          ...errors(404, 409, 423, 429),
        },
      },
    },
    async function sendSignInEmailCode(request, reply) {
      const sent = await useCases.sendSignInEmailCode({
        sessionToken: sessionToken(request),
        context: apiContext(request),
      });
      return sent.ok
        ? reply.code(202).send({ expiresAt: sent.value.expiresAt.toISOString() })
        : sendApiFailure(reply, sent);
    },
  );

  app.post(
    '/auth/second-factor/email',
    {
      config: { session: 'second_factor', fieldErrors: codeFieldErrors.otp },
      schema: {
        ...SESSION,
        operationId: 'signInWithEmailCode',
        summary: 'Complete sign-in with the emailed code',
        tags,
        body: SecondFactorCode,
        response: {
          200: answer('Signed in: the new session token', SecondFactorDone),
          ...errors(410, 423, 429),
        },
      },
    },
    async function signInWithEmailCode(request, reply) {
      const done = await complete(request, { method: 'email', code: request.body.code });
      return done.ok ? completedBody(done.value) : sendApiFailure(reply, done);
    },
  );

  app.post(
    '/auth/second-factor/recovery-code',
    {
      config: { session: 'second_factor', fieldErrors: codeFieldErrors.recoveryCode },
      schema: {
        ...SESSION,
        operationId: 'signInWithRecoveryCode',
        summary: 'Complete sign-in with a recovery code; the response says which policy applied',
        tags,
        body: SecondFactorCode,
        response: {
          200: answer(
            'Signed in with the code, now used: the new session token and which policy applied',
            RecoveryCodeSignInDone,
          ),
          ...errors(409, 423, 429),
        },
      },
    },
    async function signInWithRecoveryCode(request, reply) {
      const done = await complete(request, { method: 'recovery_code', code: request.body.code });
      if (!done.ok) return sendApiFailure(reply, done);
      const recovery = done.value.recovery as RecoveryOutcome;
      return { ...completedBody(done.value), ...recoveryOutcomeBody(recovery) };
    },
  );

  app.post(
    '/auth/sign-out',
    {
      // A half-signed-in token too: an app whose user gives up at the second step ends it at once.
      config: { session: 'any' },
      schema: {
        ...SESSION,
        operationId: 'signOut',
        summary: 'End the session (signed in, or still owing the second step)',
        tags,
        response: {
          204: { type: 'null', description: 'Signed out: the token no longer works' },
          ...errors(),
        },
      },
    },
    async function signOut(request, reply) {
      await useCases.endSession({ token: sessionToken(request), context: apiContext(request) });
      return reply.code(204).send(null);
    },
  );
}
