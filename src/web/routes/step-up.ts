import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import { noteRetryAfter } from '../../http/retry-after.js';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import type { StepUpAnswer } from '../../service/sign-in/step-up-actions.js';
import type { UseCases } from '../../service/use-cases.js';
import { keyResponseField } from '../security-key-fields.js';
import { field, requestContext } from '../web-context.js';

/** The re-authentication fields of a step-up form: password, a current authenticator code or a key's answer. */
export function stepUpAnswer(request: FastifyRequest): StepUpAnswer {
  return {
    password: field(request, 'password', 4096),
    totpCode: field(request, 'totpCode', 64),
    // A key's answer (the step-up form's security-key button) is bound to this session's own challenge.
    securityKey: keyResponseField<AuthenticationResponseJSON>(request, 'securityKeyResponse'),
  };
}

/**
 * Checks the re-authentication fields of a form (the administrator's pages). Returns the failure to show
 * (a wrong answer, or throttled with `Retry-After` set), or undefined when it passed.
 */
export async function stepUpFailure(
  useCases: UseCases,
  request: FastifyRequest,
  reply: FastifyReply,
  session: ActiveSession,
): Promise<ErrorCode | undefined> {
  const answer = stepUpAnswer(request);
  const sessionToken = request.sessionToken as string;
  const verified = await useCases.verifyStepUp({
    userId: session.user.id,
    sessionToken,
    password: answer.password,
    totpCode: answer.totpCode,
    securityKey: answer.securityKey && { binding: sessionToken, response: answer.securityKey },
    context: requestContext(request),
  });
  if (verified.ok) return undefined;
  noteRetryAfter(reply, verified);
  return verified.error;
}

/** Whether the step-up form offers the authenticator-code field. */
export async function hasTotp(useCases: UseCases, userId: string): Promise<boolean> {
  const factors = await useCases.listUserFactors(userId);
  return factors.some((factor) => factor.kind === 'totp' && factor.confirmedAt !== null);
}
