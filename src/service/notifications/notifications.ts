import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';

/** "2026-11-23 01:50:12 UTC": unambiguous in every mail client's time zone. */
export const formatTime = (at: Date) => `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`;

export function describeRequest(context: RequestContext): string {
  return [
    `IP address: ${context.ip ?? 'unknown'}`,
    // A user agent is attacker-controlled text: bounded and on one line.
    `Browser: ${(context.userAgent ?? 'unknown').replace(/[\r\n]+/g, ' ').slice(0, 200)}`,
  ].join('\n');
}

/**
 * Sends a security notice to the account's address. A notice is best effort: the action it reports has
 * already committed, so a relay failure must not undo or fail it; the failure is audited instead.
 */
async function notify(
  deps: ServiceDeps,
  input: { userId: string; subject: string; text: string; context: RequestContext; kind: string },
): Promise<void> {
  if (!deps.options.notifications) return;
  const user = await deps.store.findUserById(input.userId);
  if (!user) return;
  await sendOrAuditFailure(deps, { ...input, to: user.email });
}

/**
 * Sends an email about something that has already happened (a notice, an emailed link): a relay failure
 * must not undo or fail it, so it is audited (`notification_failed`) instead of thrown.
 */
export async function sendOrAuditFailure(
  deps: ServiceDeps,
  input: {
    userId: string;
    to: string | null;
    subject: string;
    text: string;
    context: RequestContext;
    kind: string;
  },
): Promise<void> {
  // A host application's user created without an address gets no notices (the host tells its users).
  if (input.to === null) return;
  try {
    await deps.mailer.send({ to: input.to as string, subject: input.subject, text: input.text });
  } catch (error) {
    await deps.store.appendAuditEvent(
      auditEvent(deps.clock.now(), 'notification_failed', 'failure', input.userId, input.context, {
        kind: input.kind,
        error: error instanceof Error ? error.message.slice(0, 200) : 'unknown',
      }),
    );
  }
}

export async function notifyRecoveryCodeUsed(
  deps: ServiceDeps,
  input: {
    userId: string;
    at: Date;
    remaining: number | null;
    outcome: string;
    /** What the code was used for: the notice says so, a password reset is not a sign-in. */
    purpose: 'sign_in' | 'password_reset';
    context: RequestContext;
  },
): Promise<void> {
  const site = deps.options.issuer;
  const left =
    input.remaining === null
      ? ''
      : `Recovery codes left: ${input.remaining}${input.remaining <= 3 ? ' (generate new ones soon)' : ''}\n`;
  const usedTo =
    input.purpose === 'password_reset'
      ? { subject: `reset your ${site} password`, text: `reset the password of your ${site} account` }
      : { subject: `sign in to ${site}`, text: `sign in to your ${site} account` };
  await notify(deps, {
    userId: input.userId,
    kind: 'recovery_code_used',
    subject: `A recovery code was used to ${usedTo.subject}`,
    text:
      `A recovery code was just used to ${usedTo.text}.\n\n` +
      `Time: ${formatTime(input.at)}\n${describeRequest(input.context)}\n${left}${input.outcome}\n\n` +
      'If this was not you, someone has your password and a recovery code: change your password, ' +
      'regenerate your recovery codes and contact the site support.\n',
    context: input.context,
  });
}

export async function notifyRecoveryCodesRegenerated(
  deps: ServiceDeps,
  input: { userId: string; at: Date; count: number; context: RequestContext },
): Promise<void> {
  const site = deps.options.issuer;
  await notify(deps, {
    userId: input.userId,
    kind: 'recovery_codes_regenerated',
    subject: `New recovery codes were generated for ${site}`,
    text:
      `New recovery codes were just generated for your ${site} account. ` +
      `Your previous codes no longer work.\n\nTime: ${formatTime(input.at)}\n${describeRequest(input.context)}\n` +
      `New codes: ${input.count}\n\n` +
      'If this was not you, change your password and contact the site support.\n',
    context: input.context,
  });
}

export async function notifyMfaReset(
  deps: ServiceDeps,
  input: { userId: string; at: Date; context: RequestContext },
): Promise<void> {
  const site = deps.options.issuer;
  await notify(deps, {
    userId: input.userId,
    kind: 'mfa_reset',
    subject: `Your ${site} two-factor authentication was reset`,
    text:
      `An administrator of ${site} reset the two-factor authentication of your account.\n\n` +
      `Time: ${formatTime(input.at)}\n\n` +
      'Your authenticator, email codes and recovery codes no longer work, and every session was signed out. ' +
      'Sign in with your password and set up two-factor authentication again.\n\n' +
      'If you did not ask the support team for this, contact them immediately.\n',
    context: input.context,
  });
}

/** "A security key was added/removed" (STANDARDS req 54; OWASP MFA CS "Changing MFA Factors"). */
export async function notifySecurityKeyChanged(
  deps: ServiceDeps,
  input: {
    userId: string;
    change: 'added' | 'removed';
    name: string | null;
    at: Date;
    context: RequestContext;
  },
): Promise<void> {
  const site = deps.options.issuer;
  // The name is the user's own text: one line, bounded.
  const name = input.name ? ` ("${input.name.replace(/[\r\n]+/g, ' ').slice(0, 64)}")` : '';
  await notify(deps, {
    userId: input.userId,
    kind: `security_key_${input.change}`,
    subject: `A security key was ${input.change} ${input.change === 'added' ? 'to' : 'from'} your ${site} account`,
    text:
      `A security key or passkey${name} was just ${input.change} ${input.change === 'added' ? 'to' : 'from'} your ${site} account.\n\n` +
      `Time: ${formatTime(input.at)}\n${describeRequest(input.context)}\n\n` +
      'If this was not you, change your password, check your two-factor settings and contact the site support.\n',
    context: input.context,
  });
}
