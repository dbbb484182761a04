import { hashPassword, type PasswordProblem } from '../../core/password.js';
import { fail, ok, type Result } from '../../core/result.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { describeRequest, formatTime, sendOrAuditFailure } from '../notifications/notifications.js';
import { forgetDevicesWithin } from '../sessions/remembered-devices.js';
import { authorizeChange, rotateWithChange } from '../sign-in/change-authority.js';
import { type StepUpProof, verifyCurrentPassword } from '../sign-in/step-up.js';
import type { Throttled } from '../throttle/throttle-counters.js';
import { checkNewPassword } from './accounts.js';

export type ChangePasswordFailure = 'current_password_wrong' | PasswordProblem | 'not_signed_in';

export interface PasswordChanged {
  /** The session's new token: the one the request came with is dead. */
  token: string;
  sessionsEnded: number;
  devicesForgotten: number;
}

/**
 * Settings → Password: the current password, then a new one under the sign-up rules. The new password is
 * checked first, so a typo in it costs no attempt; the current one is checked under the sign-in throttle
 * (charged before it is looked at, like step-up), so a stolen session cannot guess it without limit.
 *
 * Then, in one transaction: the new hash, the session rotated (a fresh token, OWASP Session CS), every other
 * session of the user ended and every remembered browser forgotten (ASVS 5.0 7.4.3: a password change ends
 * what the old password opened, a stolen device cookie included), audited. The user is emailed after the
 * commit; a relay failure is audited, never undoes the change.
 */
export async function changePassword(
  deps: ServiceDeps,
  input: {
    userId: string;
    sessionToken: string;
    currentPassword: string;
    newPassword: string;
    context: RequestContext;
  },
): Promise<Result<PasswordChanged, ChangePasswordFailure> | Throttled> {
  const { userId, context } = input;
  const user = await deps.store.findUserById(userId);
  if (!user) return fail('not_signed_in');
  const problem = checkNewPassword(deps, { email: user.email ?? undefined, password: input.newPassword });
  if (problem) return fail(problem);

  const { sessionToken } = input;
  const verified = await verifyCurrentPassword(deps, {
    userId,
    sessionToken,
    password: input.currentPassword,
    context,
  });
  if (!verified.ok) return verified;
  return setNewPassword(deps, { userId, proof: verified.value, newPassword: input.newPassword, context });
}

/**
 * The change itself, once its step-up passed: it requires the proof, whose session is rotated. The current
 * password is the only step-up a password change takes (not an authenticator code or a key): someone holding
 * the session and the phone but not the password must not be able to lock the owner out with a new one.
 * There is no backend path: an operator resets a password by the reset link, which ends in its own flow.
 * The new password is checked again here, so no caller skips the rules.
 */
export async function setNewPassword(
  deps: ServiceDeps,
  input: { userId: string; proof: StepUpProof; newPassword: string; context: RequestContext },
): Promise<Result<PasswordChanged, PasswordProblem | 'not_signed_in'>> {
  const { userId, context } = input;
  const { sessionToken } = authorizeChange(input.proof, userId);
  const user = await deps.store.findUserById(userId);
  if (!user) return fail('not_signed_in');
  const problem = checkNewPassword(deps, { email: user.email ?? undefined, password: input.newPassword });
  if (problem) return fail(problem);
  const passwordHash = await hashPassword(input.newPassword, {
    pepper: deps.keys.passwordPepper,
    params: deps.options.password.params,
  });
  const now = deps.clock.now();
  const changed = await deps.store.transaction(async (tx) => {
    // First, so a session ended meanwhile (signed out, another change) changes nothing at all.
    const rotated = await rotateWithChange(deps, tx, { sessionToken, userId, context });
    if (!rotated?.rotation.token) return undefined;
    await tx.setPasswordHash(userId, passwordHash);
    const sessionsEnded = await tx.deleteUserSessions(userId, rotated.keptIdHash);
    const devicesForgotten = await forgetDevicesWithin(deps, tx, {
      userId,
      reason: 'password_changed',
      context,
    });
    await tx.appendAuditEvent(
      auditEvent(now, 'password_changed', 'success', userId, context, { sessionsEnded, devicesForgotten }),
    );
    return { token: rotated.rotation.token, sessionsEnded, devicesForgotten };
  });
  if (!changed) return fail('not_signed_in');
  await sendOrAuditFailure(deps, {
    userId,
    to: user.email,
    context,
    kind: 'password_changed',
    subject: `Your ${deps.options.issuer} password was changed`,
    text:
      `The password of your ${deps.options.issuer} account was just changed in its settings.\n\n` +
      `Time: ${formatTime(now)}\n${describeRequest(context)}\n\n` +
      'Every other device that was signed in has been signed out, and remembered browsers will ask for ' +
      'the second factor again.\n\n' +
      'If this was not you, reset your password at once with "Forgot your password?" on the sign-in page ' +
      'and contact the site administrator.\n',
  }).catch(() => undefined);
  return ok(changed);
}
