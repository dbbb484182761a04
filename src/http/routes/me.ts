import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { FastifyInstance } from 'fastify';
import type { SessionChange } from '../../service/sign-in/step-up-actions.js';
import type { UseCases } from '../../service/use-cases.js';
import { apiContext, sendApiError, sendApiFailure, sessionToken } from '../api-replies.js';
import { sendConfirmedFactor } from '../confirmed-factor-reply.js';
import {
  answer,
  CodeBody,
  codeFieldErrors,
  EmailFactorStarted,
  errors,
  issuedCodesBody,
  TotpEnrollment,
  totpEnrollmentBody,
} from '../schemas/common.js';
import {
  FactorConfirmed,
  FactorIdParams,
  IssuedCodesWithToken,
  MfaOverview,
  NewToken,
  PasswordChange,
  StepUp,
} from '../schemas/me.js';

const SESSION = { security: [{ session: [] }] };

/** The signed-in user's own account: password, two-factor overview, factors and recovery codes. */
export function registerMeRoutes(parent: FastifyInstance, useCases: UseCases): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['end users'];

  app.post(
    '/me/password',
    {
      config: { session: 'signed_in' },
      schema: {
        ...SESSION,
        operationId: 'changeMyPassword',
        summary:
          'Change my password with the current one; returns a new token, ends every other session and forgets remembered browsers',
        tags,
        body: PasswordChange,
        response: {
          200: answer('Changed: the new session token (every other session ended)', NewToken),
          ...errors(403, 429),
        },
      },
    },
    async function changeMyPassword(request, reply) {
      const changed = await useCases.changePassword({
        userId: request.apiSession?.user.id as string,
        sessionToken: sessionToken(request),
        currentPassword: request.body.currentPassword,
        newPassword: request.body.newPassword,
        context: apiContext(request),
      });
      if (!changed.ok) return sendApiFailure(reply, changed);
      return reply.header('cache-control', 'no-store').send({ token: changed.value.token });
    },
  );

  app.get(
    '/me/mfa',
    {
      config: { session: 'signed_in', duringTwoFactorSetup: true },
      schema: {
        ...SESSION,
        operationId: 'getMyMfa',
        summary: 'My second factors and how many recovery codes I have left',
        tags,
        response: {
          200: answer('My second factors and recovery-code status', MfaOverview),
          ...errors(),
        },
      },
    },
    async function getMyMfa(request) {
      const overview = await useCases.getMfaOverview({ userId: request.apiSession?.user.id as string });
      const codes = overview.recoveryCodes;
      return {
        mfaEnabled: overview.mfaEnabled,
        factors: overview.factors.map((factor) => ({ id: factor.id, kind: factor.kind })),
        recoveryCodes: codes.hasCodes
          ? { hasCodes: true, remaining: codes.remaining, total: codes.total, low: codes.low }
          : { hasCodes: false },
      };
    },
  );

  app.post(
    '/me/factors/totp',
    {
      config: { session: 'signed_in', duringTwoFactorSetup: true },
      schema: {
        ...SESSION,
        operationId: 'enrollMyTotp',
        summary: 'Start adding an authenticator app: the key and otpauth URI to show as a QR code',
        tags,
        response: {
          201: answer(
            'Started: show the key or the otpauth URI (as a QR code), then confirm with a code',
            TotpEnrollment,
          ),
          ...errors(409),
        },
      },
    },
    async function enrollMyTotp(request, reply) {
      const enrollment = await useCases.enrollTotp({
        userId: request.apiSession?.user.id as string,
        context: apiContext(request),
      });
      if (!enrollment.ok) return sendApiError(reply, enrollment.error);
      return reply.code(201).header('cache-control', 'no-store').send(totpEnrollmentBody(enrollment.value));
    },
  );

  app.post(
    '/me/factors/totp/:factorId/confirm',
    {
      config: { session: 'signed_in', duringTwoFactorSetup: true, fieldErrors: codeFieldErrors.otp },
      schema: {
        ...SESSION,
        operationId: 'confirmMyTotp',
        summary:
          'Confirm the authenticator with its current code; the first factor also returns the first recovery codes, once',
        tags,
        params: FactorIdParams,
        body: CodeBody,
        response: {
          200: answer(
            'Confirmed: the new session token; the first recovery codes when it is the first factor',
            FactorConfirmed,
          ),
          ...errors(404),
        },
      },
    },
    async function confirmMyTotp(request, reply) {
      const confirmed = await useCases.confirmTotp({
        userId: request.apiSession?.user.id as string,
        factorId: request.params.factorId,
        code: request.body.code,
        context: apiContext(request),
      });
      if (!confirmed.ok) return sendApiError(reply, confirmed.error);
      return sendConfirmedFactor(useCases, request, reply, 'totp', confirmed.value);
    },
  );

  app.post(
    '/me/factors/email',
    {
      config: { session: 'signed_in', duringTwoFactorSetup: true },
      schema: {
        ...SESSION,
        operationId: 'enrollMyEmailFactor',
        summary: "Start using emailed codes as a factor: a code is sent to the account's address",
        tags,
        response: {
          201: answer('A code was emailed: confirm it to finish', EmailFactorStarted),
          ...errors(409, 423, 429),
        },
      },
    },
    async function enrollMyEmailFactor(request, reply) {
      const started = await useCases.startEmailFactor({
        userId: request.apiSession?.user.id as string,
        context: apiContext(request),
      });
      return started.ok ? reply.code(201).send(started.value) : sendApiError(reply, started.error);
    },
  );

  app.post(
    '/me/factors/email/:factorId/confirm',
    {
      config: { session: 'signed_in', duringTwoFactorSetup: true, fieldErrors: codeFieldErrors.otp },
      schema: {
        ...SESSION,
        operationId: 'confirmMyEmailFactor',
        summary:
          'Confirm emailed codes with the code that was sent; the first factor also returns the first recovery codes',
        tags,
        params: FactorIdParams,
        body: CodeBody,
        response: {
          200: answer(
            'Confirmed: the new session token; the first recovery codes when it is the first factor',
            FactorConfirmed,
          ),
          ...errors(404, 410, 429),
        },
      },
    },
    async function confirmMyEmailFactor(request, reply) {
      const confirmed = await useCases.confirmEmailFactor({
        userId: request.apiSession?.user.id as string,
        factorId: request.params.factorId,
        code: request.body.code,
        context: apiContext(request),
      });
      if (!confirmed.ok) return sendApiError(reply, confirmed.error);
      return sendConfirmedFactor(useCases, request, reply, 'email', confirmed.value);
    },
  );

  // The proof is checked against the session's own account: the user id comes from the session, and only
  // the proof fields are read from the body (a body `userId` must never choose whose password counts).
  const change = (
    request: Parameters<typeof apiContext>[0],
    body: { password?: string; totpCode?: string; securityKey?: AuthenticationResponseJSON },
  ): SessionChange => ({
    userId: request.apiSession?.user.id as string,
    sessionToken: sessionToken(request),
    answer: { password: body.password, totpCode: body.totpCode, securityKey: body.securityKey },
    context: apiContext(request),
  });

  app.post(
    '/me/recovery-codes',
    {
      config: { session: 'signed_in', duringTwoFactorSetup: true },
      schema: {
        ...SESSION,
        operationId: 'regenerateMyRecoveryCodes',
        summary:
          'Regenerate my recovery codes after my password or a current authenticator code; the old set dies and the answer carries my new token',
        tags,
        body: StepUp,
        response: {
          201: answer(
            'The new set (shown once; the old set stopped working) and the new session token',
            IssuedCodesWithToken,
          ),
          ...errors(409, 423, 429),
        },
      },
    },
    async function regenerateMyRecoveryCodes(request, reply) {
      const generated = await useCases.regenerateRecoveryCodesWithStepUp(change(request, request.body));
      if (!generated.ok) return sendApiFailure(reply, generated);
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ ...issuedCodesBody(generated.value), token: generated.value.token });
    },
  );

  app.post(
    '/me/factors/:factorId/remove',
    {
      config: { session: 'signed_in', duringTwoFactorSetup: true },
      schema: {
        ...SESSION,
        operationId: 'removeMyFactor',
        summary:
          'Remove one of my factors (not the last one) after step-up; an unknown factor is a 404 before any step-up is checked',
        tags,
        params: FactorIdParams,
        body: StepUp,
        response: {
          200: answer('Removed: the new session token', NewToken),
          ...errors(404, 409, 423, 429),
        },
      },
    },
    async function removeMyFactor(request, reply) {
      const removed = await useCases.removeFactorWithStepUp({
        ...change(request, request.body),
        factorId: request.params.factorId,
      });
      if (!removed.ok) return sendApiFailure(reply, removed);
      return reply.header('cache-control', 'no-store').send({ token: removed.value.token });
    },
  );

  app.post(
    '/me/mfa/disable',
    {
      config: { session: 'signed_in', duringTwoFactorSetup: true },
      schema: {
        ...SESSION,
        operationId: 'disableMyMfa',
        summary:
          'Turn two-factor off after step-up: every factor and the recovery codes are deleted; the answer carries my new token',
        tags,
        body: StepUp,
        response: {
          200: answer('Two-factor is off: the new session token', NewToken),
          ...errors(409, 423, 429),
        },
      },
    },
    async function disableMyMfa(request, reply) {
      const disabled = await useCases.disableMfaWithStepUp(change(request, request.body));
      if (!disabled.ok) return sendApiFailure(reply, disabled);
      return reply.header('cache-control', 'no-store').send({ token: disabled.value.token });
    },
  );
}
