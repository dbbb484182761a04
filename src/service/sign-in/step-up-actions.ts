import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { ErrorCode } from '../../core/errors.js';
import type { GenerationRefusal } from '../../core/policy.js';
import { type Failure, fail, type Result } from '../../core/result.js';
import type { FactorKind } from '../../store/store.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { disableMfa, hasFactor, removeFactor } from '../factors/manage-mfa.js';
import { generateRecoveryCodes } from '../recovery-codes/generate-recovery-codes.js';
import type { IssuedRecoveryCodeSet } from '../recovery-codes/prepare-recovery-code-set.js';
import type { SessionRotation } from './change-authority.js';
import { type StepUpRefusal, verifyStepUp } from './step-up.js';

/**
 * The protected changes of a signed-in end user, one flow each for every edge (pages and JSON API): the
 * target is checked first (no step-up is spent on a 404), then the step-up, then the change, which rotates
 * the session in its own transaction. Every success carries the session's new token: the one the request
 * came with is dead (OWASP Session CS: renew the session on a privilege change).
 */

/** The answer to a step-up, as the form or body gave it (the user always comes from the session). */
export interface StepUpAnswer {
  password?: string;
  totpCode?: string;
  /** A security key's answer to the step-up challenge issued to this session. */
  securityKey?: AuthenticationResponseJSON;
}

export interface SessionChange {
  userId: string;
  sessionToken: string;
  answer: StepUpAnswer;
  context: RequestContext;
}

/** A refused step-up keeps its `retryAfterSeconds` (throttled), for the edge's `Retry-After`. */
type Refused = Failure<StepUpRefusal>;

async function stepUp(deps: ServiceDeps, input: SessionChange) {
  const { userId, sessionToken, answer, context } = input;
  return verifyStepUp(deps, {
    userId,
    sessionToken,
    password: answer.password,
    totpCode: answer.totpCode,
    securityKey: answer.securityKey && { binding: sessionToken, response: answer.securityKey },
    context,
  });
}

export async function regenerateRecoveryCodesWithStepUp(
  deps: ServiceDeps,
  input: SessionChange,
): Promise<
  | Result<
      IssuedRecoveryCodeSet & Required<SessionRotation>,
      'user_not_found' | 'not_signed_in' | GenerationRefusal
    >
  | Refused
> {
  const proof = await stepUp(deps, input);
  if (!proof.ok) return proof;
  const generated = await generateRecoveryCodes(deps, {
    userId: input.userId,
    authority: proof.value,
    context: input.context,
  });
  return withToken(generated);
}

export async function removeFactorWithStepUp(
  deps: ServiceDeps,
  input: SessionChange & { factorId: string },
): Promise<
  | Result<
      { kind: FactorKind } & Required<SessionRotation>,
      'factor_not_found' | 'last_factor' | 'not_signed_in'
    >
  | Refused
> {
  // Before the step-up: a TOTP step or a throttle charge is not spent on a factor that is not there.
  if (!(await hasFactor(deps, input))) return fail('factor_not_found');
  const proof = await stepUp(deps, input);
  if (!proof.ok) return proof;
  const { userId, factorId, context } = input;
  return withToken(await removeFactor(deps, { userId, factorId, authority: proof.value, context }));
}

export async function disableMfaWithStepUp(
  deps: ServiceDeps,
  input: SessionChange,
): Promise<
  | Result<{ factorsRemoved: number } & Required<SessionRotation>, 'mfa_not_enabled' | 'not_signed_in'>
  | Refused
> {
  const proof = await stepUp(deps, input);
  if (!proof.ok) return proof;
  const { userId, context } = input;
  return withToken(await disableMfa(deps, { userId, authority: proof.value, context }));
}

/** A proof from a session always rotates it: a success without a new token means the session was gone. */
function withToken<T extends SessionRotation, E extends ErrorCode>(
  result: Result<T, E>,
): Result<T & Required<SessionRotation>, E | 'not_signed_in'> {
  if (!result.ok) return result;
  if (result.value.token === undefined) return fail('not_signed_in');
  return result as Result<T & Required<SessionRotation>, E>;
}
