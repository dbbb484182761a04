import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import { noteRetryAfter } from '../../http/retry-after.js';
import type { ServiceDeps } from '../../service/deps.js';
import type { ActiveSession } from '../../service/sessions.js';
import { verifyStepUp } from '../../service/step-up.js';
import { field, requestContext } from '../web-context.js';

/**
 * Checks the re-authentication fields of a form (password or a current authenticator code). Returns the
 * failure to show (a wrong answer, or throttled with `Retry-After` set), or undefined when it passed.
 */
export async function stepUpFailure(
  deps: ServiceDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  session: ActiveSession,
): Promise<ErrorCode | undefined> {
  const verified = await verifyStepUp(deps, {
    userId: session.user.id,
    password: field(request, 'password', 4096),
    totpCode: field(request, 'totpCode', 64),
    context: requestContext(request),
  });
  if (verified.ok) return undefined;
  noteRetryAfter(reply, verified);
  return verified.error;
}

export async function hasTotp(deps: ServiceDeps, userId: string): Promise<boolean> {
  const factors = await deps.store.listFactors(userId);
  return factors.some((factor) => factor.kind === 'totp' && factor.confirmedAt !== null);
}
