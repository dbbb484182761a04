import { fail, ok, type Result } from '../core/result.js';
import { checkUserPassword } from './accounts.js';
import { auditEvent } from './audit.js';
import type { RequestContext, ServiceDeps } from './deps.js';
import { verifyTotp } from './verify-totp.js';

/**
 * Re-authentication before a sensitive change (regenerating codes, removing a factor, turning 2FA off):
 * the account password or a current authenticator code (STANDARDS req 11; OWASP MFA CS "When to Require
 * MFA"). A TOTP code used here is consumed like any other, so it cannot be replayed elsewhere.
 */
export async function verifyStepUp(
  deps: ServiceDeps,
  input: { userId: string; password?: string; totpCode?: string; context: RequestContext },
): Promise<Result<{ method: 'password' | 'totp' }, 'step_up_failed'>> {
  const now = deps.clock.now();
  let method: 'password' | 'totp' | undefined;
  if (input.totpCode?.trim()) {
    const verified = await verifyTotp(deps, {
      userId: input.userId,
      code: input.totpCode,
      context: input.context,
    });
    if (verified.ok) method = 'totp';
  } else if (input.password) {
    if (await checkUserPassword(deps, { userId: input.userId, password: input.password }))
      method = 'password';
  }
  await deps.store.appendAuditEvent(
    auditEvent(
      now,
      method ? 'step_up' : 'step_up_failed',
      method ? 'success' : 'failure',
      input.userId,
      input.context,
      {
        method: method ?? (input.totpCode?.trim() ? 'totp' : 'password'),
      },
    ),
  );
  return method ? ok({ method }) : fail('step_up_failed');
}
