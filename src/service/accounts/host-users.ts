import { parseEmailAddress } from '../../core/email-address.js';
import { DEFAULT_USER_ROLE } from '../../core/policy.js';
import { fail, ok, type Result } from '../../core/result.js';
import type { DeletedUser } from '../../store/store.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { formatTime, sendOrAuditFailure } from '../notifications/notifications.js';

export type { DeletedUser };

/**
 * Users of a host application (an app with its own users table and sessions) addressed by the host's
 * own id: no password (they never sign in to SpareKey's pages), an email only if the host gives one (for
 * security notices). SpareKey's own email-and-password accounts are untouched by this.
 */

/** A user as the edges name one: SpareKey's id, or the host application's. */
export type UserRef = { userId: string } | { externalId: string };

export const MAX_EXTERNAL_ID_LENGTH = 255;

/** No control character (C0 or DEL): the JSON Schema form of isValidExternalId's rule, for the API's path. */
export const EXTERNAL_ID_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';

/** 1 to 255 characters, no control characters (they would break log lines and CSV exports). */
export function isValidExternalId(externalId: string): boolean {
  return (
    typeof externalId === 'string' &&
    externalId.length >= 1 &&
    externalId.length <= MAX_EXTERNAL_ID_LENGTH &&
    ![...externalId].some((char) => {
      const code = char.codePointAt(0) as number;
      return code < 0x20 || code === 0x7f;
    })
  );
}

/**
 * SpareKey's id for a reference, or undefined when no such user exists: by either id, so an edge answers
 * user_not_found for an unknown user before any flow runs (the JSON API looks the path's user up the same
 * way), rather than whatever the flow makes of a user with no rows (invalid_code, mfa_not_enabled).
 */
export async function resolveUserRef(deps: ServiceDeps, ref: UserRef): Promise<string | undefined> {
  if ('externalId' in ref && !isValidExternalId(ref.externalId)) return undefined;
  return deps.store.findUserId(ref);
}

export interface EnsuredUser {
  userId: string;
  externalId: string;
  email: string | null;
  /** False when the user already existed (their email is left as it is: see changeEmail). */
  created: boolean;
}

/**
 * Makes sure the host's user exists, creating them on the first call; every later call (and every
 * concurrent one) answers with the same user. Idempotent, so a host can call it on each sign-in.
 */
export async function ensureUser(
  deps: ServiceDeps,
  input: { externalId: string; email?: string | null; context: RequestContext },
): Promise<Result<EnsuredUser, 'invalid_external_id' | 'invalid_email' | 'email_taken'>> {
  if (!isValidExternalId(input.externalId)) return fail('invalid_external_id');
  const existing = await deps.store.findUserByExternalId(input.externalId);
  if (existing) return ok(ensured(existing.id, input.externalId, existing.email, false));
  let email: string | null = null;
  if (input.email !== undefined && input.email !== null) {
    const parsed = parseEmailAddress(input.email);
    if (!parsed.ok) return parsed;
    email = parsed.value;
  }
  const userId = deps.random.uuid();
  const now = deps.clock.now();
  const created = await deps.store.transaction(async (tx) => {
    const result = await tx.createUser({
      id: userId,
      email,
      externalId: input.externalId,
      passwordHash: null,
      // The default role, like a self-registered account: the operator's per-role policies apply to it.
      roles: [DEFAULT_USER_ROLE],
      createdAt: now,
    });
    if (result.created)
      await tx.appendAuditEvent(
        auditEvent(now, 'user_created', 'success', userId, input.context, {
          roles: DEFAULT_USER_ROLE,
          by: 'external_id',
        }),
      );
    return result;
  });
  if (created.created) return ok(ensured(userId, input.externalId, email, true));
  // A concurrent call created them first: answer with that user, as an idempotent call must.
  const winner = await deps.store.findUserByExternalId(input.externalId);
  if (winner) return ok(ensured(winner.id, input.externalId, winner.email, false));
  return fail('email_taken');
}

const ensured = (
  userId: string,
  externalId: string,
  email: string | null,
  created: boolean,
): EnsuredUser => ({
  userId,
  externalId,
  email,
  created,
});

/** The address a user has now (null: none). */
export interface EmailChange {
  email: string | null;
}

/**
 * Sets or (with null) removes a user's email address. The old address, if any, is told (ASVS 5.0 6.3.7);
 * the audit event records that it changed, never the addresses.
 */
export async function changeEmail(
  deps: ServiceDeps,
  input: { userId: string; email: string | null; context: RequestContext },
): Promise<Result<EmailChange, 'user_not_found' | 'invalid_email' | 'email_taken'>> {
  let email: string | null = null;
  if (input.email !== null) {
    const parsed = parseEmailAddress(input.email);
    if (!parsed.ok) return parsed;
    email = parsed.value;
  }
  const before = await deps.store.findUserById(input.userId);
  if (!before) return fail('user_not_found');
  const now = deps.clock.now();
  const result = await deps.store.transaction(async (tx) => {
    const updated = await tx.setUserEmail(input.userId, email);
    if (updated.updated)
      await tx.appendAuditEvent(auditEvent(now, 'email_changed', 'success', input.userId, input.context));
    return updated;
  });
  if (!result.updated) return fail(result.reason);
  if (deps.options.notifications && before.email !== null && before.email !== email) {
    await sendOrAuditFailure(deps, {
      userId: input.userId,
      to: before.email,
      context: input.context,
      kind: 'email_changed',
      subject: `The email address of your ${deps.options.issuer} account was changed`,
      text:
        `The email address of your ${deps.options.issuer} account was changed${email ? '' : ' (removed)'} ` +
        `at ${formatTime(now)}. Security notices no longer come to this address.`,
    });
  }
  return ok({ email });
}

/**
 * Deletes a user and everything of theirs in one transaction (see Store.deleteUser), for erasure
 * requests. The audit log is not rewritten: its events name users by SpareKey's random id only (never an
 * email or the host's id), so once the user row is gone nothing in the log links them to a person; the
 * deletion itself is recorded under that id.
 */
export async function deleteUser(
  deps: ServiceDeps,
  input: { userId: string; context: RequestContext },
): Promise<Result<DeletedUser, 'user_not_found' | 'last_administrator'>> {
  const now = deps.clock.now();
  return deps.store.transaction(async (tx) => {
    // The only administrator is not deleted (by any edge): someone must still be able to run the site.
    const outcome = await tx.deleteUser(input.userId);
    if (!outcome.deleted) return fail(outcome.reason);
    await tx.appendAuditEvent(
      auditEvent(now, 'user_deleted', 'success', input.userId, input.context, { ...outcome.removed }),
    );
    return ok(outcome.removed);
  });
}
