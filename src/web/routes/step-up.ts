import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import { noteRetryAfter } from '../../http/retry-after.js';
import type { ServiceDeps } from '../../service/deps.js';
import { listUserFactors } from '../../service/factors/mfa-state.js';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import { verifyStepUp } from '../../service/sign-in/step-up.js';
import { keyResponseField } from '../security-key-fields.js';
import { field, requestContext } from '../web-context.js';

/**
 * Checks the re-authentication fields of a form (password, a current authenticator code or a security key). Returns the
 * failure to show (a wrong answer, or throttled with `Retry-After` set), or undefined when it passed.
 */
export async function stepUpFailure(
  deps: ServiceDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  session: ActiveSession,
): Promise<ErrorCode | undefined> {
  // A key's answer (the step-up form's security-key button) is bound to this session's own challenge.
  const keyResponse = keyResponseField<AuthenticationResponseJSON>(request, 'securityKeyResponse');
  const verified = await verifyStepUp(deps, {
    userId: session.user.id,
    password: field(request, 'password', 4096),
    totpCode: field(request, 'totpCode', 64),
    securityKey: keyResponse && { binding: request.sessionToken as string, response: keyResponse },
    context: requestContext(request),
  });
  if (verified.ok) return undefined;
  noteRetryAfter(reply, verified);
  return verified.error;
}

export async function hasTotp(deps: ServiceDeps, userId: string): Promise<boolean> {
  const factors = await listUserFactors(deps, userId);
  return factors.some((factor) => factor.kind === 'totp' && factor.confirmedAt !== null);
}
