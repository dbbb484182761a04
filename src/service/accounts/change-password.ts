import { hashPassword, type PasswordProblem } from '../../core/password.js';
import { fail, ok, type Result } from '../../core/result.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { describeRequest, formatTime, sendOrAuditFailure } from '../notifications/notifications.js';
import { forgetDevicesWithin } from '../sessions/remembered-devices.js';
import { rotateSessionWithin } from '../sessions/sessions.js';
import { throttled } from '../throttle/throttle.js';
import { accountThrottleKey, type Throttled } from '../throttle/throttle-counters.js';
import { checkNewPassword, checkUserPassword } from './accounts.js';

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

  const verified = await verifyCurrentPassword(deps, { userId, password: input.currentPassword, context });
  if (!verified.ok) return verified;

  const passwordHash = await hashPassword(input.newPassword, {
    pepper: deps.keys.passwordPepper,
    params: deps.options.password.params,
  });
  const now = deps.clock.now();
  const changed = await deps.store.transaction(async (tx) => {
    // First, so a session ended meanwhile (signed out, another change) changes nothing at all.
    const rotated = await rotateSessionWithin(deps, tx, { token: input.sessionToken, context });
    if (!rotated || rotated.userId !== userId) return undefined;
    await tx.setPasswordHash(userId, passwordHash);
    const sessionsEnded = await tx.deleteUserSessions(userId, rotated.idHash);
    const devicesForgotten = await forgetDevicesWithin(deps, tx, {
      userId,
      reason: 'password_changed',
      context,
    });
    await tx.appendAuditEvent(
      auditEvent(now, 'password_changed', 'success', userId, context, { sessionsEnded, devicesForgotten }),
    );
    return { token: rotated.token, sessionsEnded, devicesForgotten };
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

/** The current password, as a sign-in attempt: charged first, a right one only gives its charge back. */
async function verifyCurrentPassword(
  deps: ServiceDeps,
  input: { userId: string; password: string; context: RequestContext },
): Promise<Result<true, 'current_password_wrong'> | Throttled> {
  const { userId, context } = input;
  const subject = { accountKey: accountThrottleKey(userId), userId, kind: 'sign_in', context } as const;
  // Started the moment the charge is allowed, so argon2id runs while the charge is flushed (throttle.ts).
  let checking: Promise<boolean> | undefined;
  const startChecking = () => {
    checking ??= checkUserPassword(deps, { userId, password: input.password });
    checking.catch(() => undefined);
    return checking;
  };
  return throttled(
    deps,
    subject,
    async () => {
      if (await startChecking()) return ok(true as const);
      await deps.store.appendAuditEvent(
        auditEvent(deps.clock.now(), 'password_change_failed', 'failure', userId, context, {
          reason: 'current_password_wrong',
        }),
      );
      return fail('current_password_wrong');
    },
    // The user is signed in already: a right password is not a completed sign-in (as step-up).
    () => 'refund',
    startChecking,
  );
}
