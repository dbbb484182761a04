import { fail, ok, type Result } from '../../core/result.js';
import { encodeBase32, generateTotpSecret, totpKeyUri } from '../../core/totp.js';
import { accountLabel } from '../accounts/account-label.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { openTotpFactorSecret, sealTotpFactorSecret } from './totp-factor-secret.js';

export interface TotpEnrollment {
  factorId: string;
  /**
   * For "can't scan?": the key to type into the app, in Base32 (RFC 4648), as the JSON API's `secret`.
   * Shown only in the enrolling session (no-store).
   */
  secret: string;
  /** The otpauth:// URI the QR code encodes. Never logged or audited. */
  uri: string;
}

/**
 * Starts adding an authenticator app: a new seed (>= 160 bits, RFC 4226 4 R6) in a pending factor.
 * The factor counts for nothing until confirmTotp proves the user's app has it (STANDARDS req 27).
 * Earlier unconfirmed enrollments of the user are dropped, so only the latest QR code can be confirmed.
 */
export async function enrollTotp(
  deps: ServiceDeps,
  input: { userId: string; context: RequestContext },
): Promise<Result<TotpEnrollment, 'user_not_found' | 'totp_already_added'>> {
  const user = await deps.store.findUserById(input.userId);
  if (!user) return fail('user_not_found');
  // One authenticator app per account, as in GitHub: a second one is added by removing the first.
  const existing = await deps.store.listFactors(user.id);
  if (existing.some((factor) => factor.kind === 'totp' && factor.confirmedAt !== null)) {
    return fail('totp_already_added');
  }
  const settings = deps.options.totp;
  const secret = generateTotpSecret(deps.random, settings.algorithm);
  const factorId = deps.random.uuid();
  const now = deps.clock.now();
  const sealed = sealTotpFactorSecret(deps, factorId, {
    secret,
    settings: {
      algorithm: settings.algorithm,
      digits: settings.digits,
      periodSeconds: settings.periodSeconds,
    },
  });
  await deps.store.transaction(async (tx) => {
    for (const factor of await tx.listFactors(user.id)) {
      if (factor.kind === 'totp' && factor.confirmedAt === null) await tx.deleteFactor(user.id, factor.id);
    }
    await tx.createFactor({
      id: factorId,
      userId: user.id,
      kind: 'totp',
      secretCiphertext: sealed,
      createdAt: now,
    });
    await tx.appendAuditEvent(
      auditEvent(now, 'totp_enrollment_started', 'success', user.id, input.context, { factorId }),
    );
  });
  return ok({
    factorId,
    secret: encodeBase32(secret),
    uri: totpKeyUri({ secret, settings, issuer: deps.options.issuer, accountName: accountLabel(user) }),
  });
}

/**
 * The QR code and key of a pending enrollment, to show the page again after a mistyped code. Only the
 * enrolling user's own pending factor opens; a confirmed factor's seed is never shown again.
 */
export async function pendingTotpEnrollment(
  deps: ServiceDeps,
  input: { userId: string; factorId: string },
): Promise<Result<TotpEnrollment, 'enrollment_not_found'>> {
  const [user, factor] = await Promise.all([
    deps.store.findUserById(input.userId),
    deps.store.findFactor(input.userId, input.factorId),
  ]);
  if (!user || !factor || factor.kind !== 'totp' || factor.confirmedAt !== null)
    return fail('enrollment_not_found');
  const seed = openTotpFactorSecret(deps, factor);
  if (!seed) return fail('enrollment_not_found');
  return ok({
    factorId: factor.id,
    secret: encodeBase32(seed.secret),
    uri: totpKeyUri({
      secret: seed.secret,
      settings: { ...seed.settings, window: deps.options.totp.window },
      issuer: deps.options.issuer,
      accountName: accountLabel(user),
    }),
  });
}
