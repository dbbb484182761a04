import { issueActionTokenUnlessLive } from '../accounts/action-token.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { sendOrAuditFailure } from '../notifications/notifications.js';
import { chargeEmailSend } from './throttle-counters.js';

export const UNLOCK_PURPOSE = 'unlock_second_factor';
/** Like a password-reset link (OWASP Forgot Password CS): short-lived and single use. */
export const UNLOCK_LINK_TTL_MS = 30 * 60_000;

/**
 * Emails the account a link that unlocks its second factors together with the password (the "successful
 * password + email verification" of a lock). At most one live link at a time (checked again under the
 * user's lock, so sign-ins at once send one), and emails are throttled, so an attacker cannot flood the
 * inbox. A relay failure is audited, never thrown: the lock itself stands.
 */
export async function sendUnlockLink(
  deps: ServiceDeps,
  input: { userId: string; context: RequestContext; reason: 'locked' | 'signed_in_while_locked' },
): Promise<void> {
  const { store } = deps;
  const now = deps.clock.now();
  if (await store.hasLiveActionToken(input.userId, UNLOCK_PURPOSE, now)) return;
  const user = await store.findUserById(input.userId);
  if (!user || !(await chargeEmailSend(deps, { userId: user.id })).ok) return;
  const token = await store.transaction(async (tx) => {
    // Checked again under the user's lock: of several sign-ins at once while locked, one sends the link.
    const issued = await issueActionTokenUnlessLive(deps, tx, {
      purpose: UNLOCK_PURPOSE,
      userId: user.id,
      at: now,
      ttlMs: UNLOCK_LINK_TTL_MS,
    });
    if (issued)
      await tx.appendAuditEvent(
        auditEvent(now, 'mfa_unlock_link_sent', 'success', user.id, input.context, { reason: input.reason }),
      );
    return issued;
  });
  if (!token) return;
  const site = deps.options.issuer;
  const link = `${deps.options.publicUrl ?? ''}/unlock?token=${token}`;
  await sendOrAuditFailure(deps, {
    userId: user.id,
    to: user.email,
    context: input.context,
    kind: 'mfa_unlock_link',
    subject: `Two-factor sign-in to ${site} is locked`,
    text:
      `There were too many wrong sign-in attempts on your ${site} account, so its two-factor step is ` +
      'locked: authenticator codes, email codes and recovery codes are refused for now.\n\n' +
      `If this was you, open this link and enter your password to unlock it (it works once, for ${
        UNLOCK_LINK_TTL_MS / 60_000
      } minutes):\n${link}\n\n` +
      'If it was not you, someone may know your password: change it after unlocking. ' +
      'The site administrator can also unlock your account.\n',
  });
}
