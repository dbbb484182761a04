import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { fail, ok, type Result } from '../../core/result.js';
import { checkUserPassword } from '../accounts/accounts.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { verifyTotp } from '../factors/verify-totp.js';
import { verifySecurityKey } from '../factors/webauthn/authenticate-key.js';
import { throttled } from '../throttle/throttle.js';
import { accountThrottleKey, type ThrottleFailure } from '../throttle/throttle-counters.js';

export type StepUpMethod = 'password' | 'totp' | 'webauthn';

/**
 * Re-authentication before a sensitive change (regenerating codes, removing a factor, turning 2FA off):
 * the account password, a current authenticator code or a security key (STANDARDS req 11; OWASP MFA CS
 * "When to Require MFA"). A TOTP code used here is consumed like any other, so it cannot be replayed
 * elsewhere; a key answers a challenge issued for step-up in this session only. All are
 * throttled like sign-in attempts: a stolen session cannot guess the password or codes without limit.
 */
export async function verifyStepUp(
  deps: ServiceDeps,
  input: {
    userId: string;
    password?: string;
    totpCode?: string;
    /** A security key's answer to a step-up challenge issued to `binding` (the session). */
    securityKey?: { binding: string; response: AuthenticationResponseJSON };
    context: RequestContext;
  },
): Promise<Result<{ method: StepUpMethod }, 'step_up_failed' | ThrottleFailure>> {
  const now = deps.clock.now();
  let method: StepUpMethod | undefined;
  const attempted: StepUpMethod = input.securityKey
    ? 'webauthn'
    : input.totpCode?.trim()
      ? 'totp'
      : 'password';
  if (input.securityKey) {
    const verified = await verifySecurityKey(deps, {
      userId: input.userId,
      ...input.securityKey,
      ceremony: 'step_up',
      context: input.context,
    });
    if (!verified.ok && (verified.error === 'too_many_attempts' || verified.error === 'mfa_locked')) {
      return verified;
    }
    if (verified.ok) method = 'webauthn';
  } else if (input.totpCode?.trim()) {
    const verified = await verifyTotp(deps, {
      userId: input.userId,
      code: input.totpCode,
      context: input.context,
    });
    if (!verified.ok && (verified.error === 'too_many_attempts' || verified.error === 'mfa_locked')) {
      return verified;
    }
    if (verified.ok) method = 'totp';
  } else if (input.password) {
    const { userId, password, context } = input;
    const subject = { accountKey: accountThrottleKey(userId), userId, kind: 'sign_in', context } as const;
    const checked = await throttled(
      deps,
      subject,
      async () => ((await checkUserPassword(deps, { userId, password })) ? ok(true) : fail('wrong_password')),
      () => 'refund',
    );
    if (!checked.ok && (checked.error === 'too_many_attempts' || checked.error === 'mfa_locked')) {
      return checked;
    }
    if (checked.ok) method = 'password';
  }
  await deps.store.appendAuditEvent(
    auditEvent(
      now,
      method ? 'step_up' : 'step_up_failed',
      method ? 'success' : 'failure',
      input.userId,
      input.context,
      {
        method: method ?? attempted,
      },
    ),
  );
  return method ? ok({ method }) : fail('step_up_failed');
}
