import { parseEmailAddress } from '../../core/email-address.js';
import type { PasswordProblem } from '../../core/password.js';
import { fail, ok, type Result } from '../../core/result.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { describeRequest, formatTime, sendOrAuditFailure } from '../notifications/notifications.js';
import { createUser } from './accounts.js';
import { needsFirstAdmin } from './first-admin.js';

export type SignUpRefusal = 'invalid_email' | PasswordProblem | 'site_not_set_up';

/** What a public sign-up answers when it is accepted: the same whether or not the address was new. */
export interface SignUpAccepted {
  /**
   * Settles when the notice to the owner of an already-registered address has been handed to the relay
   * (at once when the address was new). Edges do not wait for it: its delivery time must not tell either.
   */
  delivered: Promise<void>;
}

/**
 * True while the one-time setup link printed at start-up is outstanding: it is then the only way in, so
 * nobody who reaches a new install first can race the operator (on any edge: pages, JSON API, library).
 */
export async function awaitingFirstAdminSetup(deps: ServiceDeps): Promise<boolean> {
  return deps.options.firstAdminSetupLink === true && (await needsFirstAdmin(deps));
}

/**
 * Public sign-up: anyone may call it, so its input has no roles (the account gets the default role) and
 * its answer never says whether the address already had an account (OWASP Authentication CS, "Account
 * creation"; ASVS 5.0 6.3.8). A new address gets its account; an address that has one gets no second
 * account, and its owner gets an email saying someone tried. Both ways do the same work before answering:
 * the password rules, one argon2id hash and one audited transaction; the email goes out after the answer.
 */
export async function signUp(
  deps: ServiceDeps,
  input: { email: string; password: string; context: RequestContext },
): Promise<Result<SignUpAccepted, SignUpRefusal>> {
  if (await awaitingFirstAdminSetup(deps)) return fail('site_not_set_up');
  const created = await createUser(deps, {
    email: input.email,
    password: input.password,
    context: input.context,
  });
  if (created.ok) return ok({ delivered: Promise.resolve() });
  // No roles were asked for, so the default role cannot be unknown; that would be a broken install.
  if (created.error === 'unknown_role') throw new Error('sign-up: the default role does not exist');
  if (created.error !== 'email_taken') return fail(created.error);
  const email = parseEmailAddress(input.email);
  const owner = email.ok ? await deps.store.findUserByEmail(email.value) : undefined;
  const at = deps.clock.now();
  await deps.store.appendAuditEvent(
    auditEvent(at, 'user_created', 'failure', owner?.id ?? null, input.context, { reason: 'email_taken' }),
  );
  const delivered = owner
    ? tellOwner(deps, { userId: owner.id, to: owner.email, at, context: input.context }).catch(
        () => undefined,
      )
    : Promise.resolve();
  return ok({ delivered });
}

/** The owner learns that someone tried (and that nothing changed); a relay failure is audited, not thrown. */
async function tellOwner(
  deps: ServiceDeps,
  input: { userId: string; to: string | null; at: Date; context: RequestContext },
): Promise<void> {
  if (!deps.options.notifications) return;
  const site = deps.options.issuer;
  await sendOrAuditFailure(deps, {
    userId: input.userId,
    to: input.to,
    kind: 'sign_up_existing_email',
    subject: `Someone tried to create a ${site} account with your address`,
    text:
      `Someone tried to create a new ${site} account with this email address, which already has one. ` +
      'No second account was created and nothing about your account changed.\n\n' +
      `Time: ${formatTime(input.at)}\n${describeRequest(input.context)}\n\n` +
      'If this was you: sign in with your existing account, or reset your password if you forgot it. ' +
      'If it was not you, you can ignore this email.\n',
    context: input.context,
  });
}
