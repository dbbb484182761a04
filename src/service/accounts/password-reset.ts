import { createHash } from 'node:crypto';
import { parseEmailAddress } from '../../core/email-address.js';
import { hashPassword, type PasswordProblem } from '../../core/password.js';
import { fail, ok, type Result } from '../../core/result.js';
import { hashSessionToken } from '../../core/session-token.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { hasConfirmedFactor } from '../factors/mfa-state.js';
import { type TotpFailure, verifyTotp } from '../factors/verify-totp.js';
import { sendOrAuditFailure } from '../notifications/notifications.js';
import {
  type RecoveryCodeFailure,
  type RecoveryOutcome,
  verifyRecoveryCode,
} from '../recovery-codes/verify-recovery-code.js';
import { chargeEmail, type Throttled } from '../throttle/throttle-counters.js';
import { checkNewPassword } from './accounts.js';
import { issueActionToken } from './action-token.js';

export const PASSWORD_RESET_PURPOSE = 'password_reset';
/** OWASP Forgot Password Cheat Sheet: a single-use link that expires soon. */
export const PASSWORD_RESET_TTL_MS = 30 * 60_000;

/**
 * Emails a reset link when the address has an account. The answer is the same either way (OWASP Forgot
 * Password CS: no account enumeration), and both ways do the same work before answering: the throttle
 * charges (per address typed and per client IP, counted whether or not the account exists) and one audited
 * transaction. The email itself goes out after the answer, so its delivery time tells nothing either.
 * A new link kills the earlier ones.
 */
export async function requestPasswordReset(
  deps: ServiceDeps,
  input: { email: string; context: RequestContext },
): Promise<{ ok: true; delivered: Promise<void> } | Throttled> {
  const email = parseEmailAddress(input.email);
  const normalized = email.ok ? email.value : input.email.trim().toLowerCase().slice(0, 320);
  const charged = await chargeEmail(deps, {
    recipientKey: `reset-email:${createHash('sha256').update(normalized).digest('hex')}`,
    addressKey: input.context.ip ? `reset-address:${input.context.ip}` : null,
  });
  if (!charged.ok) return charged;
  const now = deps.clock.now();
  const user = email.ok ? await deps.store.findUserByEmail(email.value) : undefined;
  const token = await deps.store.transaction(async (tx) => {
    let issued: string | undefined;
    if (user) {
      await tx.revokeActionTokens(user.id, PASSWORD_RESET_PURPOSE, now);
      issued = await issueActionToken(deps, tx, {
        purpose: PASSWORD_RESET_PURPOSE,
        userId: user.id,
        at: now,
        ttlMs: PASSWORD_RESET_TTL_MS,
      });
    }
    await tx.appendAuditEvent(
      auditEvent(
        now,
        'password_reset_requested',
        user ? 'success' : 'failure',
        user?.id ?? null,
        input.context,
        {
          ...(user ? {} : { reason: 'unknown_email' }),
        },
      ),
    );
    return issued;
  });
  // Not awaited by the edges (see above); `delivered` settles when the relay has answered (it never rejects).
  const delivered =
    user?.email && token
      ? sendResetLink(deps, { userId: user.id, to: user.email, token, context: input.context }).catch(
          () => undefined,
        )
      : Promise.resolve();
  return { ok: true, delivered };
}

async function sendResetLink(
  deps: ServiceDeps,
  input: { userId: string; to: string; token: string; context: RequestContext },
): Promise<void> {
  const site = deps.options.issuer;
  const link = `${deps.options.publicUrl ?? ''}/reset-password?token=${input.token}`;
  await sendOrAuditFailure(deps, {
    userId: input.userId,
    to: input.to,
    context: input.context,
    kind: 'password_reset_link',
    subject: `Reset your ${site} password`,
    text:
      `Someone (hopefully you) asked to reset the password of your ${site} account.\n\n` +
      `To choose a new password, open this link. It works once, for ${PASSWORD_RESET_TTL_MS / 60_000} minutes:\n${link}\n\n` +
      'If your account has two-factor authentication, you will also need a code from your authenticator ' +
      'app or one of your recovery codes.\n\n' +
      'If you did not ask for this, ignore this email: your password stays as it is.\n',
  });
}

/** What the reset page asks for: nothing more when the account has no second factor. */
export interface ResetLinkInfo {
  email: string;
  /** The account has two-factor authentication: a TOTP code or a recovery code is required too. */
  secondFactorRequired: boolean;
  hasTotp: boolean;
}

export async function inspectResetLink(deps: ServiceDeps, token: string): Promise<ResetLinkInfo | undefined> {
  const link = await readResetLink(deps, token);
  return (
    link && {
      email: link.user.email ?? '',
      secondFactorRequired: link.secondFactorRequired,
      hasTotp: link.hasTotp,
    }
  );
}

/** The live link's owner and second factors, or undefined for a link that is not live. */
async function readResetLink(deps: ServiceDeps, token: string) {
  const idHash = hashSessionToken(token);
  const owner =
    idHash && (await deps.store.findActionToken(idHash, PASSWORD_RESET_PURPOSE, deps.clock.now()));
  if (!idHash || !owner) return undefined;
  const [user, factors] = await Promise.all([
    deps.store.findUserById(owner.userId),
    deps.store.listFactors(owner.userId),
  ]);
  if (!user) return undefined;
  return {
    idHash,
    user,
    secondFactorRequired: hasConfirmedFactor(factors),
    hasTotp: factors.some((factor) => factor.confirmedAt !== null && factor.kind === 'totp'),
  };
}

export type PasswordResetFailure =
  | 'reset_link_invalid'
  | PasswordProblem
  | 'second_factor_required'
  | TotpFailure
  | RecoveryCodeFailure;

/**
 * Sets a new password with the emailed link. On an account with two-factor authentication the link alone
 * is not enough (it only proves the inbox): a current authenticator code or a recovery code is required,
 * checked under the same throttle as sign-in, and a recovery code is consumed, audited and its policy
 * applied like any other use. An emailed code is not offered: it would come from the same inbox as the link.
 * Then, in one transaction: the link is spent (of two concurrent uses one wins), the password replaced,
 * every session ended and the change audited. The user is emailed.
 */
export async function resetPassword(
  deps: ServiceDeps,
  input: {
    token: string;
    newPassword: string;
    totpCode?: string;
    recoveryCode?: string;
    context: RequestContext;
  },
): Promise<Result<{ userId: string; recovery?: RecoveryOutcome }, PasswordResetFailure> | Throttled> {
  const info = await readResetLink(deps, input.token);
  if (!info) return fail('reset_link_invalid');
  const { idHash, user: owner } = info;
  const problem = checkNewPassword(deps, { email: owner.email ?? undefined, password: input.newPassword });
  if (problem) return fail(problem);

  let recovery: RecoveryOutcome | undefined;
  let method: 'none' | 'totp' | 'recovery_code' = 'none';
  if (info.secondFactorRequired) {
    const totpCode = input.totpCode?.trim() ?? '';
    const recoveryCode = input.recoveryCode?.trim() ?? '';
    if (totpCode && info.hasTotp) {
      const checked = await verifyTotp(deps, { userId: owner.id, code: totpCode, context: input.context });
      if (!checked.ok) return checked;
      method = 'totp';
    } else if (recoveryCode) {
      const checked = await verifyRecoveryCode(deps, {
        userId: owner.id,
        code: recoveryCode,
        context: input.context,
        purpose: 'password_reset',
      });
      if (!checked.ok) return checked;
      recovery = checked.value;
      method = 'recovery_code';
    } else {
      return fail('second_factor_required');
    }
  }

  const passwordHash = await hashPassword(input.newPassword, {
    pepper: deps.keys.passwordPepper,
    params: deps.options.password.params,
  });
  const now = deps.clock.now();
  const done = await deps.store.transaction(async (tx) => {
    const spent = await tx.consumeActionToken(idHash, PASSWORD_RESET_PURPOSE, now);
    if (!spent.consumed || spent.userId !== owner.id) return false;
    await tx.setPasswordHash(owner.id, passwordHash);
    const sessionsEnded = await tx.deleteUserSessions(owner.id);
    // A new password starts over everywhere: remembered browsers too (a stolen cookie dies with it).
    const devicesForgotten = await tx.forgetRememberedDevices(owner.id, null);
    await tx.appendAuditEvent(
      auditEvent(now, 'password_reset', 'success', owner.id, input.context, {
        secondFactor: method,
        sessionsEnded,
        devicesForgotten,
      }),
    );
    return true;
  });
  if (!done) return fail('reset_link_invalid');
  // After the commit: a failure to audit a relay failure must not turn a done reset into an error.
  await sendOrAuditFailure(deps, {
    userId: owner.id,
    to: owner.email,
    context: input.context,
    kind: 'password_reset_done',
    subject: `Your ${deps.options.issuer} password was changed`,
    text:
      `The password of your ${deps.options.issuer} account was just reset with an emailed link` +
      `${method === 'recovery_code' ? ' and one of your recovery codes' : method === 'totp' ? ' and your authenticator app' : ''}. ` +
      'Every device that was signed in has been signed out.\n\n' +
      'If this was not you, contact the site administrator at once: someone can read your email.\n',
  }).catch(() => undefined);
  return ok({ userId: owner.id, ...(recovery ? { recovery } : {}) });
}
