import { parseEmailAddress } from '../../core/email-address.js';
import { fail, ok, type Result } from '../../core/result.js';
import { updateRecoveryCodeSettings } from '../admin/settings.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { checkNewPassword, createUser, type SignUpFailure } from './accounts.js';

/** The claim that makes first-admin creation happen once, across processes and restarts. */
const FIRST_ADMIN_CLAIM = 'first_admin_created';

/** True while the database has no account: the first one to be made is the administrator. */
export async function needsFirstAdmin(deps: ServiceDeps): Promise<boolean> {
  return (
    (await deps.store.countUsers()) === 0 && (await deps.store.getSetting(FIRST_ADMIN_CLAIM)) === undefined
  );
}

/**
 * Creates the first administrator (from SPAREKEY_ADMIN_EMAIL/PASSWORD or the one-time setup page). The
 * claim is a conditional insert, so two instances starting at once, or two setup submissions, make one.
 */
export async function createFirstAdmin(
  deps: ServiceDeps,
  input: { email: string; password: string; enableRecoveryCodes?: boolean; context: RequestContext },
): Promise<Result<{ userId: string }, SignUpFailure | 'setup_token_invalid'>> {
  if (!(await needsFirstAdmin(deps))) return fail('setup_token_invalid');
  // Check the input before claiming, so a typo does not use up the one-time setup.
  const email = parseEmailAddress(input.email);
  if (!email.ok) return email;
  const problem = checkNewPassword(deps, { email: email.value, password: input.password });
  if (problem) return fail(problem);
  const now = deps.clock.now();
  const { claimed } = await deps.store.claimSetting(FIRST_ADMIN_CLAIM, { at: now.toISOString() }, now);
  if (!claimed) return fail('setup_token_invalid');
  const created = await createUser(deps, {
    email: input.email,
    password: input.password,
    roles: ['administrator'],
    context: input.context,
  });
  if (!created.ok) return created;
  // The master switch is off by default (as in Auth0); setting up is where the operator decides.
  if (input.enableRecoveryCodes) {
    await updateRecoveryCodeSettings(
      deps,
      { enabled: true },
      { ...input.context, actorId: created.value.userId },
    );
  }
  return ok(created.value);
}
