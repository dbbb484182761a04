import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { backendAuthority } from '../../service/sign-in/change-authority.js';
import type { UseCases } from '../../service/use-cases.js';
import { apiContext, sendApiError, sendApiFailure } from '../api-replies.js';
import {
  answer,
  CodeBody,
  codeFieldErrors,
  EmailFactorStarted,
  errors,
  IssuedCodes,
  issuedCodesBody,
  RecoveryCodeStatus,
  recoveryCodeStatusBody,
  TotpEnrollment,
  totpEnrollmentBody,
} from '../schemas/common.js';
import { RecoveryOutcomeFields, recoveryOutcomeBody } from '../schemas/recovery-outcome.js';
import { MfaResetBody, MfaResetDone, UserFactorConfirmed, UserMfa } from '../schemas/users-recovery-codes.js';
import { pathSchemaWith, type UserAddressing } from '../user-addressing.js';

/** Per-user recovery codes and MFA, for a backend acting for its users (the Auth0 Management API shape). */
export function registerRecoveryCodeRoutes(
  parent: FastifyInstance,
  useCases: UseCases,
  by: UserAddressing,
): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    `${by.prefix}/recovery-codes`,
    {
      config: { scope: 'recovery_codes:read' },
      schema: {
        operationId: `getRecoveryCodeStatus${by.operationSuffix}`,
        summary: "How many of a user's recovery codes are left (never the codes)",
        tags: ['recovery codes'],
        params: by.params,
        response: {
          200: answer(
            'Whether the user has codes and how many are left; never the codes',
            RecoveryCodeStatus,
          ),
          ...errors(404),
        },
      },
    },
    async function getRecoveryCodeStatus(request, reply) {
      const userId = await by.resolve(useCases, request.params);
      if (userId === undefined) return sendApiError(reply, 'user_not_found');
      const status = await useCases.getRecoveryCodeStatus({ userId });
      return recoveryCodeStatusBody(status);
    },
  );

  app.post(
    `${by.prefix}/recovery-codes`,
    {
      config: { scope: 'recovery_codes:write' },
      schema: {
        operationId: `generateRecoveryCodes${by.operationSuffix}`,
        summary: 'Generate (or regenerate) the recovery codes: the old set stops working at once',
        description: 'Step-up is the caller’s duty: call this only after the user re-authenticated.',
        tags: ['recovery codes'],
        params: by.params,
        response: {
          201: answer('The new set: show the codes to the user now, they are not shown again', IssuedCodes),
          ...errors(404, 409),
        },
      },
    },
    async function generateRecoveryCodes(request, reply) {
      const userId = await by.resolve(useCases, request.params);
      if (userId === undefined) return sendApiError(reply, 'user_not_found');
      const context = apiContext(request);
      // A key with this scope is the site's backend, which stepped its user up itself.
      const authority = backendAuthority({ kind: 'api_key', actorId: context.actorId });
      const result = await useCases.generateRecoveryCodes({ userId, authority, context });
      if (!result.ok) return sendApiFailure(reply, result);
      return reply.code(201).header('cache-control', 'no-store').send(issuedCodesBody(result.value));
    },
  );

  app.post(
    `${by.prefix}/recovery-codes/verify`,
    {
      config: { scope: 'recovery_codes:write', fieldErrors: codeFieldErrors.recoveryCode, carryKeyUse: true },
      schema: {
        operationId: `verifyRecoveryCode${by.operationSuffix}`,
        summary: 'Verify a recovery code as the second factor; it works once, then the policy applies',
        tags: ['recovery codes'],
        params: by.params,
        body: CodeBody,
        response: {
          200: answer(
            'The code was right and is now used; which post-recovery policy applied',
            Type.Object(RecoveryOutcomeFields),
          ),
          ...errors(404, 409, 423, 429),
        },
      },
    },
    async function verifyRecoveryCode(request, reply) {
      const userId = await by.resolve(useCases, request.params);
      if (userId === undefined) return sendApiError(reply, 'user_not_found');
      const result = await useCases.verifyRecoveryCode({
        userId,
        code: request.body.code,
        context: apiContext(request),
      });
      if (!result.ok) return sendApiFailure(reply, result);
      return recoveryOutcomeBody(result.value);
    },
  );

  app.get(
    `${by.prefix}/mfa`,
    {
      config: { scope: 'recovery_codes:read' },
      schema: {
        operationId: `getMfaStatus${by.operationSuffix}`,
        summary: "A user's confirmed second factors and recovery-code count",
        tags: ['mfa'],
        params: by.params,
        response: {
          200: answer("The user's confirmed second factors and recovery-code status", UserMfa),
          ...errors(404),
        },
      },
    },
    async function getMfaStatus(request, reply) {
      const userId = await by.resolve(useCases, request.params);
      if (userId === undefined) return sendApiError(reply, 'user_not_found');
      const overview = await useCases.getMfaOverview({ userId });
      return {
        mfaEnabled: overview.mfaEnabled,
        factors: overview.factors.map((f) => ({ id: f.id, kind: f.kind, addedAt: f.addedAt.toISOString() })),
        recoveryCodes: recoveryCodeStatusBody(overview.recoveryCodes),
      };
    },
  );

  app.post(
    `${by.prefix}/mfa/reset`,
    {
      config: { scope: 'mfa:reset', fieldErrors: { reason: 'reason_required' } },
      schema: {
        operationId: `resetMfa${by.operationSuffix}`,
        summary: "Remove all of a user's factors, codes and sessions (support path); the reason is audited",
        tags: ['mfa'],
        params: by.params,
        body: MfaResetBody,
        response: {
          200: answer('Done: how many factors were removed and sessions ended', MfaResetDone),
          ...errors(404),
        },
      },
    },
    async function resetMfa(request, reply) {
      const userId = await by.resolve(useCases, request.params);
      if (userId === undefined) return sendApiError(reply, 'user_not_found');
      const result = await useCases.resetUserMfa({
        userId,
        reason: request.body.reason,
        context: apiContext(request),
      });
      return result.ok ? result.value : sendApiFailure(reply, result);
    },
  );

  app.post(
    `${by.prefix}/factors/totp`,
    {
      config: { scope: 'mfa:write' },
      schema: {
        operationId: `enrollUserTotp${by.operationSuffix}`,
        summary: 'Start an authenticator enrollment for a user: the key and otpauth URI to show them',
        tags: ['mfa'],
        params: by.params,
        response: {
          201: answer(
            'Started: show the key or the otpauth URI (as a QR code), then confirm with a code',
            TotpEnrollment,
          ),
          ...errors(404, 409),
        },
      },
    },
    async function enrollUserTotp(request, reply) {
      const userId = await by.resolve(useCases, request.params);
      if (userId === undefined) return sendApiError(reply, 'user_not_found');
      const enrollment = await useCases.enrollTotp({
        userId,
        context: apiContext(request),
      });
      if (!enrollment.ok) return sendApiError(reply, enrollment.error);
      return reply.code(201).header('cache-control', 'no-store').send(totpEnrollmentBody(enrollment.value));
    },
  );

  app.post(
    `${by.prefix}/factors/totp/:factorId/confirm`,
    {
      config: { scope: 'mfa:write', fieldErrors: codeFieldErrors.otp },
      schema: {
        operationId: `confirmUserTotp${by.operationSuffix}`,
        summary:
          "Confirm a user's authenticator with its current code; the first factor returns the first codes, once",
        tags: ['mfa'],
        params: pathSchemaWith(by, { factorId: Type.String({ maxLength: 64 }) }),
        body: CodeBody,
        response: {
          200: answer(
            'Confirmed: two-factor is on; the first recovery codes when it is the first factor',
            UserFactorConfirmed,
          ),
          ...errors(404),
        },
      },
    },
    async function confirmUserTotp(request, reply) {
      const userId = await by.resolve(useCases, request.params);
      if (userId === undefined) return sendApiError(reply, 'user_not_found');
      const confirmed = await useCases.confirmTotp({
        userId,
        factorId: request.params.factorId,
        code: request.body.code,
        context: apiContext(request),
      });
      if (!confirmed.ok) return sendApiError(reply, confirmed.error);
      const codes = confirmed.value.recoveryCodes;
      return reply.header('cache-control', 'no-store').send({
        factorId: confirmed.value.factorId,
        mfaEnabled: confirmed.value.mfaEnabled,
        recoveryCodes: codes ? issuedCodesBody(codes) : null,
      });
    },
  );

  app.post(
    `${by.prefix}/factors/totp/verify`,
    {
      config: { scope: 'mfa:write', fieldErrors: codeFieldErrors.otp },
      schema: {
        operationId: `verifyUserTotp${by.operationSuffix}`,
        summary: "Verify a user's authenticator code (each time step is accepted once)",
        tags: ['mfa'],
        params: by.params,
        body: CodeBody,
        response: {
          200: answer('The code was right: the id of the authenticator it matched', EmailFactorStarted),
          ...errors(404, 409, 423, 429, 503),
        },
      },
    },
    async function verifyUserTotp(request, reply) {
      const userId = await by.resolve(useCases, request.params);
      if (userId === undefined) return sendApiError(reply, 'user_not_found');
      const result = await useCases.verifyTotp({
        userId,
        code: request.body.code,
        context: apiContext(request),
      });
      return result.ok ? result.value : sendApiFailure(reply, result);
    },
  );
}
