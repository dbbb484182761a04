import type { FastifyRequest } from 'fastify';
import type { ServiceDeps } from '../../service/deps.js';
import type { ActiveSession } from '../../service/sessions.js';
import { verifyStepUp } from '../../service/step-up.js';
import { field, requestContext } from '../web-context.js';

/** Checks the re-authentication fields of a form (password or a current authenticator code). */
export async function stepUpPassed(
  deps: ServiceDeps,
  request: FastifyRequest,
  session: ActiveSession,
): Promise<boolean> {
  const verified = await verifyStepUp(deps, {
    userId: session.user.id,
    password: field(request, 'password', 4096),
    totpCode: field(request, 'totpCode', 64),
    context: requestContext(request),
  });
  return verified.ok;
}

export async function hasTotp(deps: ServiceDeps, userId: string): Promise<boolean> {
  const factors = await deps.store.listFactors(userId);
  return factors.some((factor) => factor.kind === 'totp' && factor.confirmedAt !== null);
}
