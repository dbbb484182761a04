import { createHash } from 'node:crypto';
import { type ChargeVerdict, DEFAULT_THROTTLE_OPTIONS, type ThrottleOptions } from '../../core/throttle.js';
import type { AttemptCounters } from '../../store/store.js';
import type { ServiceDeps } from '../deps.js';

export type { ThrottleOptions } from '../../core/throttle.js';

export type ThrottleFailure = 'too_many_attempts' | 'mfa_locked';

/** A refusal with the wait the edges send as `Retry-After` (absent for a lock: waiting does not help). */
export type Throttled = { ok: false; error: ThrottleFailure; retryAfterSeconds?: number };

export const accountThrottleKey = (userId: string) => `account:${userId}`;

/**
 * The account key for an email with no account: the same counting, so whether a sign-in gets throttled does
 * not tell an attacker whether the address has an account. Hashed so the table holds no addresses.
 */
export const unknownAccountThrottleKey = (normalizedEmail: string) =>
  `account-email:${createHash('sha256').update(normalizedEmail).digest('hex')}`;

export const addressKey = (ip: string) => `address:${ip}`;
const emailSendKey = (userId: string) => `email-send:${userId}`;
const emailSendAddressKey = (ip: string) => `email-send-address:${ip}`;

/**
 * The keys whose policy forgets an idle counter, with how long: the purge may delete those rows once that
 * idle (core/throttle.ts would start them over anyway). Accounts' counters are never forgotten this way.
 */
export function forgettingThrottleKeys(deps: ServiceDeps): { keyPrefix: string; idleMs: number }[] {
  const { address, emailSend, emailSendAddress } = policies(deps);
  const keys = [
    { keyPrefix: addressKey(''), idleMs: address.forgetAfterMs },
    { keyPrefix: emailSendKey(''), idleMs: emailSend.forgetAfterMs },
    { keyPrefix: emailSendAddressKey(''), idleMs: emailSendAddress.forgetAfterMs },
  ];
  return keys.filter((key): key is { keyPrefix: string; idleMs: number } => key.idleMs !== null);
}

export function counters(deps: ServiceDeps): AttemptCounters {
  return deps.attemptCounters ?? deps.store;
}

export function policies(deps: ServiceDeps): ThrottleOptions {
  return deps.options.throttle ?? DEFAULT_THROTTLE_OPTIONS;
}

export function refusal(verdict: Exclude<ChargeVerdict, { charged: true }>): Throttled {
  if (verdict.reason === 'locked') return { ok: false, error: 'mfa_locked' };
  return { ok: false, error: 'too_many_attempts', retryAfterSeconds: Math.ceil(verdict.retryAfterMs / 1000) };
}

/** Charges one email to the account (sign-in codes, unlock links); never settled: every email counts. */
export function chargeEmailSend(
  deps: ServiceDeps,
  input: { userId: string; ip?: string | null },
): Promise<{ ok: true } | Throttled> {
  return chargeEmail(deps, {
    recipientKey: emailSendKey(input.userId),
    addressKey: input.ip ? emailSendAddressKey(input.ip) : null,
  });
}

/**
 * Charges one email under the email policies: to the requesting client address first (when known), then
 * to the recipient's key. Never settled: every email counts.
 */
export async function chargeEmail(
  deps: ServiceDeps,
  keys: { recipientKey: string; addressKey: string | null },
): Promise<{ ok: true } | Throttled> {
  const { emailSend, emailSendAddress } = policies(deps);
  const now = deps.clock.now();
  const charges = [{ key: keys.recipientKey, policy: emailSend }];
  if (keys.addressKey) charges.unshift({ key: keys.addressKey, policy: emailSendAddress });
  for (const { key, policy } of charges) {
    const verdict = await counters(deps).chargeAttempt(key, policy, 'sign_in', now);
    if (!verdict.charged) return refusal(verdict);
  }
  return { ok: true };
}

/** Whether the account's second factors are locked (the sign-in page says so before any attempt). */
export async function isSecondFactorLocked(deps: ServiceDeps, userId: string): Promise<boolean> {
  const state = await counters(deps).findAttempts(accountThrottleKey(userId));
  return state?.lockedAt != null;
}

/** Forgets the account's failures and lock (an administrator's MFA reset, an unlock). */
export async function clearAccountThrottle(deps: ServiceDeps, userId: string): Promise<void> {
  await counters(deps).clearAttempts(accountThrottleKey(userId));
}
