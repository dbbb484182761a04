import { fail, ok, type Result } from '../../core/result.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { throttled } from '../throttle/throttle.js';
import { accountThrottleKey, type Throttled } from '../throttle/throttle-counters.js';
import { checkFactorCode, openTotpFactorSecret } from './totp-factor-secret.js';

/**
 * Checks an authenticator-app code as a second factor. A step is accepted at most once: the matched step
 * must be later than the last accepted one, and the store records it with a conditional write, so two
 * concurrent submissions of one code cannot both win (RFC 6238 5.2; ASVS 4.0.3 2.8.4).
 * Throttled: each attempt is charged to the account (and address) before it is evaluated (throttle.ts).
 */
export async function verifyTotp(
  deps: ServiceDeps,
  input: { userId: string; code: string; context: RequestContext },
): Promise<Result<TotpVerification, TotpFailure> | Throttled> {
  const { userId, context } = input;
  const subject = { accountKey: accountThrottleKey(userId), userId, kind: 'second_factor', context } as const;
  return throttled(deps, subject, () => evaluateTotp(deps, input));
}

/** An accepted code: the authenticator it came from. */
export interface TotpVerification {
  factorId: string;
}

export type TotpFailure = 'mfa_not_enabled' | 'invalid_code' | 'totp_replayed' | 'factor_unreadable';

async function evaluateTotp(
  deps: ServiceDeps,
  input: { userId: string; code: string; context: RequestContext },
): Promise<Result<TotpVerification, TotpFailure>> {
  const { store } = deps;
  const factor = (await store.listFactors(input.userId)).find(
    (f) => f.kind === 'totp' && f.confirmedAt !== null,
  );
  if (!factor) return fail('mfa_not_enabled');
  const now = deps.clock.now();
  const seed = openTotpFactorSecret(deps, factor);
  if (!seed) {
    // A seed that does not authenticate (tampered row or wrong SPAREKEY_SECRET) fails closed: the attempt
    // is refused and audited, never accepted (STANDARDS req 25).
    await store.appendAuditEvent(
      auditEvent(now, 'totp_failed', 'failure', input.userId, input.context, {
        factorId: factor.id,
        reason: 'seed_unreadable',
      }),
    );
    return fail('factor_unreadable');
  }

  const check = checkFactorCode(deps, seed, { code: input.code, now, lastUsedStep: factor.lastUsedStep });
  const won = check.ok && (await store.recordTotpStep(factor.id, check.step, now)).recorded;
  if (won) {
    await store.appendAuditEvent(
      auditEvent(now, 'totp_verified', 'success', input.userId, input.context, { factorId: factor.id }),
    );
    return ok({ factorId: factor.id });
  }
  // A correct code whose step was already accepted, before or by a concurrent request, is a replay:
  // audited as its own event (ASVS 4.0.3 2.8.5), not as a wrong code.
  const replayed = check.ok || check.reason === 'replayed';
  await store.appendAuditEvent(
    auditEvent(now, replayed ? 'totp_replay' : 'totp_failed', 'failure', input.userId, input.context, {
      factorId: factor.id,
      ...(replayed ? {} : { reason: check.ok ? 'invalid' : check.reason }),
    }),
  );
  return fail(replayed ? 'totp_replayed' : 'invalid_code');
}
