import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { signInWithPassword } from '../../service/accounts/accounts.js';
import { signUp } from '../../service/accounts/sign-up.js';
import type { ServiceDeps } from '../../service/deps.js';
import { sendEmailOtp, verifyEmailOtp } from '../../service/factors/email-otp.js';
import { secondFactorChoices } from '../../service/factors/manage-mfa.js';
import { verifyTotp } from '../../service/factors/verify-totp.js';
import { verifyRecoveryCode } from '../../service/recovery-codes/verify-recovery-code.js';
import { endSession, rotateSession, startSession } from '../../service/sessions/sessions.js';
import { apiContext, sendApiError, sendApiFailure, sessionToken } from './api-context.js';
import { CodeBody, errors, IssuedCodes, issuedCodesBody } from './schemas.js';

const Credentials = Type.Object({
  email: Type.String({ maxLength: 254 }),
  password: Type.String({ maxLength: 1024 }),
});
const _StepUp = Type.Object({
  password: Type.Optional(Type.String({ maxLength: 1024 })),
  totpCode: Type.Optional(Type.String({ maxLength: 16 })),
});
const _PasswordChange = Type.Object({
  currentPassword: Type.String({ maxLength: 1024 }),
  newPassword: Type.String({ maxLength: 1024 }),
});
const SessionToken = Type.Object({
  token: Type.String({ description: 'Send as Authorization: Bearer <token>; it changes at every step' }),
  stage: Type.Union([Type.Literal('second_factor'), Type.Literal('signed_in')]),
});
const PUBLIC = { security: [] };
const SESSION = { security: [{ session: [] }] };

/**
 * The sign-in flow for apps that draw their own screens: sign-in returns a challenge (a session in
 * the `second_factor` stage), each completed step returns a new token (the old one dies).
 */
export function registerAuthRoutes(parent: FastifyInstance, deps: ServiceDeps): void {
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
          202: Type.Object(
            { status: Type.Literal('accepted') },
            { description: 'Accepted; the same for a new address and one that has an account' },
          ),
          ...errors(409),
        },
      },
    },
    async (request, reply) => {
      const accepted = await signUp(deps, {
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
        body: Credentials,
        response: {
          200: Type.Object({
            ...SessionToken.properties,
            secondFactors: Type.Object({
              totp: Type.Boolean(),
              email: Type.Boolean(),
              recoveryCode: Type.Boolean(),
            }),
          }),
          ...errors(429),
        },
      },
    },
    async (request, reply) => {
      const result = await signInWithPassword(deps, {
        email: request.body.email,
        password: request.body.password,
        context: apiContext(request),
      });
      if (!result.ok) return sendApiFailure(reply, result);
      const stage = result.value.secondFactorRequired ? ('second_factor' as const) : ('signed_in' as const);
      const { token } = await startSession(deps, {
        userId: result.value.user.id,
        stage,
        context: apiContext(request),
      });
      return {
        token,
        stage,
        secondFactors: await secondFactorChoices(deps, { userId: result.value.user.id }),
      };
    },
  );

  const signedIn = async (request: Parameters<typeof apiContext>[0], method: string) =>
    rotateSession(deps, {
      token: sessionToken(request),
      stage: 'signed_in',
      method,
      context: apiContext(request),
    });

  app.post(
    '/auth/second-factor/totp',
    {
      config: { session: 'second_factor' },
      schema: {
        ...SESSION,
        operationId: 'signInWithTotp',
        summary: 'Complete sign-in with an authenticator code',
        tags,
        body: CodeBody,
        response: { 200: SessionToken, ...errors(409, 423, 429) },
      },
    },
    async (request, reply) => {
      const userId = request.apiSession?.user.id as string;
      const result = await verifyTotp(deps, {
        userId,
        code: request.body.code,
        context: apiContext(request),
      });
      if (!result.ok) return sendApiFailure(reply, result);
      const rotated = await signedIn(request, 'totp');
      return rotated
        ? { token: rotated.token, stage: 'signed_in' as const }
        : sendApiError(reply, 'sign_in_expired');
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
        response: { 202: Type.Object({ expiresAt: Type.String() }), ...errors(404, 423, 429) },
      },
    },
    async (request, reply) => {
      const session = request.apiSession as NonNullable<typeof request.apiSession>;
      if (!(await secondFactorChoices(deps, { userId: session.user.id })).email)
        return sendApiError(reply, 'factor_not_found');
      const sent = await sendEmailOtp(deps, {
        userId: session.user.id,
        attemptId: session.record.attemptId,
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
      config: { session: 'second_factor' },
      schema: {
        ...SESSION,
        operationId: 'signInWithEmailCode',
        summary: 'Complete sign-in with the emailed code',
        tags,
        body: CodeBody,
        response: { 200: SessionToken, ...errors(410, 429, 423) },
      },
    },
    async (request, reply) => {
      const session = request.apiSession as NonNullable<typeof request.apiSession>;
      const result = await verifyEmailOtp(deps, {
        userId: session.user.id,
        attemptId: session.record.attemptId,
        code: request.body.code,
        context: apiContext(request),
      });
      if (!result.ok) return sendApiFailure(reply, result);
      const rotated = await signedIn(request, 'email');
      return rotated
        ? { token: rotated.token, stage: 'signed_in' as const }
        : sendApiError(reply, 'sign_in_expired');
    },
  );

  app.post(
    '/auth/second-factor/recovery-code',
    {
      config: { session: 'second_factor' },
      schema: {
        ...SESSION,
        operationId: 'signInWithRecoveryCode',
        summary: 'Complete sign-in with a recovery code; the response says which policy applied',
        tags,
        body: CodeBody,
        response: {
          200: Type.Object({
            ...SessionToken.properties,
            policy: Type.String(),
            remaining: Type.Optional(Type.Integer()),
            low: Type.Optional(Type.Boolean()),
            replacement: Type.Optional(IssuedCodes),
          }),
          ...errors(409, 423, 429),
        },
      },
    },
    async (request, reply) => {
      const userId = request.apiSession?.user.id as string;
      const result = await verifyRecoveryCode(deps, {
        userId,
        code: request.body.code,
        context: apiContext(request),
      });
      if (!result.ok) return sendApiFailure(reply, result);
      const rotated = await signedIn(request, 'recovery_code');
      if (!rotated) return sendApiError(reply, 'sign_in_expired');
      const outcome = result.value;
      const base = { token: rotated.token, stage: 'signed_in' as const, policy: outcome.policy };
      if (outcome.policy === 'continue') return { ...base, remaining: outcome.remaining, low: outcome.low };
      if (outcome.policy === 'rotate') return { ...base, replacement: issuedCodesBody(outcome.replacement) };
      return base;
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
        response: { 204: { type: 'null', description: 'Signed out' }, ...errors() },
      },
    },
    async (request, reply) => {
      await endSession(deps, { token: sessionToken(request), context: apiContext(request) });
      return reply.code(204).send(null);
    },
  );
}
