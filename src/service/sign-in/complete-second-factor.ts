import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { type Failure, fail, ok, type Result } from '../../core/result.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { sendEmailOtp, verifyEmailOtp } from '../factors/email-otp.js';
import { secondFactorChoices } from '../factors/manage-mfa.js';
import { verifyTotp } from '../factors/verify-totp.js';
import { securityKeyAuthenticationOptions, verifySecurityKey } from '../factors/webauthn/authenticate-key.js';
import { type RecoveryOutcome, verifyRecoveryCode } from '../recovery-codes/verify-recovery-code.js';
import { rememberDevice } from '../sessions/remembered-devices.js';
import { type ActiveSession, resolveSession, rotateSession } from '../sessions/sessions.js';
import { twoFactorSetupOwed } from './begin-sign-in.js';

/** What the person offers at the second step: a code of one kind, or a security key's answer. */
export type SecondFactorProof =
  | { method: 'totp' | 'email' | 'recovery_code'; code: string }
  | { method: 'security_key'; response: AuthenticationResponseJSON };

/** The method recorded on the session (and in the `sign_in` audit event) for each proof. */
const SESSION_METHOD = {
  totp: 'totp',
  email: 'email',
  recovery_code: 'recovery_code',
  security_key: 'webauthn',
} as const;

export interface SecondFactorCompleted {
  userId: string;
  /** The signed-in session's token; the half-signed-in one is dead. */
  token: string;
  /** Set when the person asked to be remembered: the value to present at the next sign-in, and until when. */
  rememberedBrowser?: { value: string; expiresAt: Date };
  /** After a recovery code: what the operator's post-recovery policy did. */
  recovery?: RecoveryOutcome;
  /**
   * True when the recovery code turned two-factor off for someone whose role must use it: signed in, but
   * only the two-factor setup is for them until it is on again (as after `beginSignIn`).
   */
  twoFactorSetupRequired: boolean;
}

/**
 * Completes a sign-in with any second factor, for every edge: the session named by `sessionToken` must owe
 * one (a correct password less than 10 minutes ago); the proof is checked (throttled per account, like every
 * second factor), then the session token is rotated into a signed-in one, and the browser is remembered when
 * asked. A recovery code also applies the post-recovery policy; its outcome comes back for the edge to show.
 */
export async function completeSecondFactor(
  deps: ServiceDeps,
  input: { sessionToken: string; proof: SecondFactorProof; remember: boolean; context: RequestContext },
): Promise<Result<SecondFactorCompleted>> {
  const session = await pendingSession(deps, input.sessionToken);
  if (!session) return fail('sign_in_expired');
  const { proof } = input;
  if (proof.method !== 'security_key' && !proof.code.trim()) return fail('code_required');
  const checked = await checkProof(deps, session, input);
  if (!checked.ok) return checked;
  const rotated = await rotateSession(deps, {
    token: input.sessionToken,
    stage: 'signed_in',
    method: SESSION_METHOD[proof.method],
    context: input.context,
  });
  // Another request completed this sign-in first: this one's token is already dead.
  if (!rotated) return fail('sign_in_expired');
  const userId = session.user.id;
  const device = input.remember ? await rememberDevice(deps, { userId, context: input.context }) : undefined;
  const recovery = checked.value;
  return ok({
    userId,
    token: rotated.token,
    twoFactorSetupRequired:
      recovery?.policy === 'disable_mfa' && (await twoFactorSetupOwed(deps, session.user)),
    ...(device && { rememberedBrowser: { value: device.cookieValue, expiresAt: device.expiresAt } }),
    ...(recovery && { recovery }),
  });
}

async function checkProof(
  deps: ServiceDeps,
  session: ActiveSession,
  input: { sessionToken: string; proof: SecondFactorProof; context: RequestContext },
): Promise<Result<RecoveryOutcome | undefined> | Failure> {
  const { proof, context } = input;
  const userId = session.user.id;
  switch (proof.method) {
    case 'totp':
      return withoutValue(await verifyTotp(deps, { userId, code: proof.code, context }));
    case 'email':
      return withoutValue(
        await verifyEmailOtp(deps, {
          userId,
          attemptId: session.record.attemptId,
          code: proof.code,
          context,
        }),
      );
    case 'recovery_code':
      return verifyRecoveryCode(deps, { userId, code: proof.code, context });
    case 'security_key':
      // The challenge was bound to this half-signed-in session: an answer made for another is refused.
      return withoutValue(
        await verifySecurityKey(deps, {
          userId,
          binding: input.sessionToken,
          response: proof.response,
          context,
        }),
      );
  }
}

function withoutValue(result: Result<unknown> | Failure): Result<undefined> {
  return result.ok ? ok(undefined) : result;
}

/**
 * Emails a sign-in code for the session's attempt, when the account has email as a factor and the operator
 * allows it (a resend kills the previous code).
 */
export async function sendSignInEmailCode(
  deps: ServiceDeps,
  input: { sessionToken: string; context: RequestContext },
): Promise<Result<{ expiresAt: Date }>> {
  const session = await pendingSession(deps, input.sessionToken);
  if (!session) return fail('sign_in_expired');
  if (!(await secondFactorChoices(deps, { userId: session.user.id })).email) return fail('factor_not_found');
  return sendEmailOtp(deps, {
    userId: session.user.id,
    attemptId: session.record.attemptId,
    context: input.context,
  });
}

/**
 * Options for a security key's answer at the second step, bound to the half-signed-in session so that an
 * answer made for another sign-in is refused.
 */
export async function secondFactorKeyOptions(
  deps: ServiceDeps,
  input: { sessionToken: string },
): Promise<Result<PublicKeyCredentialRequestOptionsJSON>> {
  const session = await pendingSession(deps, input.sessionToken);
  if (!session) return fail('sign_in_expired');
  return securityKeyAuthenticationOptions(deps, {
    userId: session.user.id,
    binding: input.sessionToken,
    ceremony: 'second_factor',
  });
}

async function pendingSession(deps: ServiceDeps, token: string): Promise<ActiveSession | undefined> {
  const session = token ? await resolveSession(deps, token) : undefined;
  return session?.record.stage === 'second_factor' ? session : undefined;
}
