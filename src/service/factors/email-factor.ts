import { fail, ok, type Result } from '../../core/result.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import type { ThrottleFailure } from '../throttle/throttle-counters.js';
import { completeEnrollment, type FactorConfirmation } from './complete-enrollment.js';
import { type EmailOtpFailure, evaluateEmailOtp, sendEmailOtp } from './email-otp.js';

/** Enrollment codes are bound to the pending factor, never to a sign-in attempt. */
const enrollmentAttemptId = (factorId: string) => `enroll:${factorId}`;

/** An email factor waiting for the emailed code (confirmEmailFactor with this id). */
export interface StartedEmailFactor {
  factorId: string;
}

/**
 * Starts adding "email me a code" as a second factor: a pending factor, and a code sent to the account's
 * address that proves the user reads that mailbox. Earlier unconfirmed email enrollments are dropped.
 */
export async function startEmailFactor(
  deps: ServiceDeps,
  input: { userId: string; context: RequestContext },
): Promise<
  Result<
    StartedEmailFactor,
    | 'email_otp_disabled'
    | 'user_not_found'
    | 'email_address_missing'
    | 'email_factor_already_added'
    | ThrottleFailure
  >
> {
  const { store } = deps;
  if (!deps.options.emailOtp.enabled) return fail('email_otp_disabled');
  const factors = await store.listFactors(input.userId);
  if (factors.some((factor) => factor.kind === 'email' && factor.confirmedAt !== null)) {
    return fail('email_factor_already_added');
  }
  const factorId = deps.random.uuid();
  // The pending factor is written with its code, once the send is allowed: a refused send (too many
  // emails, second factors locked) must not replace the enrollment whose code the user already has.
  const sent = await sendEmailOtp(deps, {
    userId: input.userId,
    attemptId: enrollmentAttemptId(factorId),
    context: input.context,
    purpose: 'enrollment',
    alsoWrite: async (tx) => {
      for (const factor of factors) {
        if (factor.kind === 'email' && factor.confirmedAt === null)
          await tx.deleteFactor(input.userId, factor.id);
      }
      await tx.createFactor({
        id: factorId,
        userId: input.userId,
        kind: 'email',
        secretCiphertext: null,
        createdAt: deps.clock.now(),
      });
    },
  });
  return sent.ok ? ok({ factorId }) : sent;
}

/** Sends a fresh code for a pending email enrollment (the earlier one dies). */
export async function resendEmailFactorCode(
  deps: ServiceDeps,
  input: { userId: string; factorId: string; context: RequestContext },
): Promise<
  Result<
    { expiresAt: Date },
    | 'email_otp_disabled'
    | 'user_not_found'
    | 'email_address_missing'
    | 'enrollment_not_found'
    | ThrottleFailure
  >
> {
  const factor = await deps.store.findFactor(input.userId, input.factorId);
  if (factor?.kind !== 'email' || factor.confirmedAt !== null) return fail('enrollment_not_found');
  return sendEmailOtp(deps, {
    userId: input.userId,
    attemptId: enrollmentAttemptId(factor.id),
    context: input.context,
    purpose: 'enrollment',
  });
}

/** Confirms the email factor with the code that was sent (and, if it is the first factor, issues codes). */
export async function confirmEmailFactor(
  deps: ServiceDeps,
  input: { userId: string; factorId: string; code: string; context: RequestContext },
): Promise<Result<FactorConfirmation, 'enrollment_not_found' | EmailOtpFailure>> {
  const { store } = deps;
  const [user, factors] = await Promise.all([
    store.findUserById(input.userId),
    store.listFactors(input.userId),
  ]);
  const factor = factors.find((candidate) => candidate.id === input.factorId);
  if (!user || !factor || factor.kind !== 'email' || factor.confirmedAt !== null) {
    return fail('enrollment_not_found');
  }
  const verified = await evaluateEmailOtp(deps, {
    userId: user.id,
    attemptId: enrollmentAttemptId(factor.id),
    code: input.code,
    context: input.context,
  });
  if (!verified.ok) return verified;
  const confirmed = await completeEnrollment(deps, {
    user,
    factors,
    factor,
    kind: 'email',
    now: deps.clock.now(),
    context: input.context,
  });
  return confirmed ? ok(confirmed) : fail('enrollment_not_found');
}
