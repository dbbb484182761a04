import * as OTPAuth from 'otpauth';
import { type SettingsUpdate, updateRecoveryCodeSettings } from '../../src/service/admin/settings.js';
import { confirmTotp } from '../../src/service/factors/confirm-totp.js';
import { enrollTotp } from '../../src/service/factors/enroll-totp.js';
import type { TestEnvironment } from './service-deps.js';

/**
 * The authenticator app's side, computed with otpauth directly (not through SpareKey's core/totp), so
 * the service is checked against an independent TOTP implementation.
 */
export function authenticatorCode(secretBase32: string, timestampMs: number, digits = 6): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secretBase32), digits, period: 30 }).generate({
    timestamp: timestampMs,
  });
}

export async function configureRecoveryCodes(
  env: TestEnvironment,
  update: SettingsUpdate = {},
): Promise<void> {
  const result = await updateRecoveryCodeSettings(env.deps, { enabled: true, ...update }, {});
  if (!result.ok) throw new Error(`settings refused: ${result.problems?.join('; ')}`);
}

/** Enrolls and confirms an authenticator app; returns its key and the first recovery codes, if any. */
export async function enableTotp(env: TestEnvironment, userId: string) {
  const enrollment = await enrollTotp(env.deps, { userId, context: {} });
  if (!enrollment.ok) throw new Error(enrollment.error);
  const code = authenticatorCode(enrollment.value.secret, env.clock.nowMs);
  const confirmed = await confirmTotp(env.deps, {
    userId,
    factorId: enrollment.value.factorId,
    code,
    context: {},
  });
  if (!confirmed.ok) throw new Error(confirmed.error);
  // Later sign-ins happen in a later time step, as they would for a person.
  env.clock.advance(30_000);
  return { ...enrollment.value, recoveryCodes: confirmed.value.recoveryCodes };
}
