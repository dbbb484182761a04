import { fail, ok, type Result } from '../../core/result.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { completeEnrollment, type FactorConfirmation } from './complete-enrollment.js';
import { checkFactorCode, openTotpFactorSecret } from './totp-factor-secret.js';

export type TotpConfirmation = FactorConfirmation;

/**
 * Completes an authenticator-app enrollment with the first correct code (and, for the first factor, the
 * first recovery codes: see completeEnrollment).
 */
export async function confirmTotp(
  deps: ServiceDeps,
  input: { userId: string; factorId: string; code: string; context: RequestContext },
): Promise<Result<TotpConfirmation, 'enrollment_not_found' | 'invalid_code'>> {
  const { store, clock } = deps;
  const [user, factors] = await Promise.all([
    store.findUserById(input.userId),
    store.listFactors(input.userId),
  ]);
  const factor = factors.find((candidate) => candidate.id === input.factorId);
  if (!user || !factor || factor.kind !== 'totp' || factor.confirmedAt !== null)
    return fail('enrollment_not_found');
  const seed = openTotpFactorSecret(deps, factor);
  // An enrollment whose seed does not authenticate cannot be confirmed: the user starts again.
  if (!seed) return fail('enrollment_not_found');

  const now = clock.now();
  const check = checkFactorCode(deps, seed, { code: input.code, now, lastUsedStep: null });
  if (!check.ok) {
    await store.appendAuditEvent(
      auditEvent(now, 'totp_failed', 'failure', user.id, input.context, {
        factorId: factor.id,
        reason: check.reason,
      }),
    );
    return fail('invalid_code');
  }

  const confirmed = await completeEnrollment(deps, {
    user,
    factors,
    factor,
    kind: 'totp',
    now,
    totpStep: check.step,
    context: input.context,
  });
  return confirmed ? ok(confirmed) : fail('enrollment_not_found');
}
