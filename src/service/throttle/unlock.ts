import { fail, ok, type Result } from '../../core/result.js';
import { hashSessionToken } from '../../core/session-token.js';
import { checkUserPassword } from '../accounts/accounts.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { throttled } from './throttle.js';
import { accountThrottleKey, clearAccountThrottle, type Throttled } from './throttle-counters.js';
import { UNLOCK_PURPOSE } from './unlock-link.js';

/** Whether an unlock link is live, so its page can say so before asking for the password. */
export async function isUnlockLinkLive(deps: ServiceDeps, token: string): Promise<boolean> {
  const idHash = hashSessionToken(token);
  return Boolean(idHash && (await deps.store.findActionToken(idHash, UNLOCK_PURPOSE, deps.clock.now())));
}

/** Whose second factors an unlock link unlocked. */
export interface UnlockedSecondFactor {
  userId: string;
}

/**
 * Unlocks an account's second factors with the emailed link and the account password: both factors of the
 * lock's "password + email" proof. The password attempt is throttled like a sign-in; the link is spent only
 * once the password is right, with a conditional update, so of two concurrent uses one wins.
 */
export async function unlockSecondFactor(
  deps: ServiceDeps,
  input: { token: string; password: string; context: RequestContext },
): Promise<Result<UnlockedSecondFactor, 'unlock_link_invalid' | 'wrong_password'> | Throttled> {
  const idHash = hashSessionToken(input.token);
  const owner = idHash && (await deps.store.findActionToken(idHash, UNLOCK_PURPOSE, deps.clock.now()));
  if (!idHash || !owner) return fail('unlock_link_invalid');
  const { userId } = owner;
  return throttled(
    deps,
    { accountKey: accountThrottleKey(userId), userId, kind: 'sign_in', context: input.context },
    async () => {
      if (!(await checkUserPassword(deps, { userId, password: input.password }))) {
        await deps.store.appendAuditEvent(
          auditEvent(deps.clock.now(), 'sign_in_failed', 'failure', userId, input.context, {
            reason: 'wrong_credentials',
            step: 'unlock',
          }),
        );
        return fail('wrong_password');
      }
      const spent = await deps.store.consumeActionToken(idHash, UNLOCK_PURPOSE, deps.clock.now());
      if (!spent.consumed) return fail('unlock_link_invalid');
      await clearAccountThrottle(deps, userId);
      await deps.store.appendAuditEvent(
        auditEvent(deps.clock.now(), 'mfa_unlocked', 'success', userId, input.context, {
          method: 'email_link',
        }),
      );
      return ok({ userId });
    },
    // The unlock is not a sign-in: the account starts over through clearAccountThrottle above.
    () => 'refund',
  );
}
