import { createHmac, timingSafeEqual } from 'node:crypto';
import { generateSessionToken, hashSessionToken } from '../../core/session-token.js';
import type { RememberedDeviceRecord, Store } from '../../store/store.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { hasConfirmedFactor } from '../factors/mfa-state.js';

/** Auth0's remember-browser period: the second step is skipped on this browser for 30 days. */
export const REMEMBER_DEVICE_TTL_MS = 30 * 24 * 3600_000;

export type DevicesForgottenReason =
  | 'user_one'
  | 'user_all'
  | 'password_reset'
  | 'password_changed'
  | 'mfa_disabled'
  | 'mfa_reset_by_admin'
  | 'admin';

/**
 * The cookie is `<token>.<signature>`: the token is 256 bits from the CSPRNG, stored only as its SHA-256;
 * the signature is an HMAC over the user id and the token, so a cookie is bound to its user and a forged
 * or foreign one is refused before any lookup.
 */
function sign(deps: ServiceDeps, userId: string, token: string): string {
  return createHmac('sha256', deps.keys.deviceCookieKey)
    .update(`${userId}\u0000${token}`)
    .digest('base64url');
}

/**
 * Remembers this browser for the user (they ticked the box at the second step); returns the cookie value.
 * Nothing is remembered for an account without two-factor (e.g. a recovery code just turned it off): such
 * a device would otherwise skip the second step once it is set up again.
 */
export async function rememberDevice(
  deps: ServiceDeps,
  input: { userId: string; context: RequestContext },
): Promise<{ cookieValue: string; expiresAt: Date } | undefined> {
  if (!hasConfirmedFactor(await deps.store.listFactors(input.userId))) return undefined;
  const token = generateSessionToken(deps.random);
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + REMEMBER_DEVICE_TTL_MS);
  const id = deps.random.uuid();
  await deps.store.transaction(async (tx) => {
    await tx.rememberDevice({
      id,
      tokenHash: hashSessionToken(token) as string,
      userId: input.userId,
      label: browserLabel(input.context.userAgent),
      ip: input.context.ip ?? null,
      createdAt: now,
      expiresAt,
    });
    await tx.appendAuditEvent(
      auditEvent(now, 'device_remembered', 'success', input.userId, input.context, { deviceId: id }),
    );
  });
  return { cookieValue: `${token}.${sign(deps, input.userId, token)}`, expiresAt };
}

/**
 * Whether the cookie names a live remembered browser of this user's; its "last used" is updated. Anything
 * else (malformed, forged, another user's, forgotten, expired) is simply not recognized.
 */
export async function recognizeDevice(
  deps: ServiceDeps,
  input: { userId: string; cookieValue: string | undefined },
): Promise<RememberedDeviceRecord | undefined> {
  const device = await identifyDevice(deps, input);
  if (device) await deps.store.touchRememberedDevice(device.id, deps.clock.now());
  return device;
}

/** Which of the user's live remembered browsers the cookie names, if any (to mark "this browser" in a list). */
export async function identifyDevice(
  deps: ServiceDeps,
  input: { userId: string; cookieValue: string | undefined },
): Promise<RememberedDeviceRecord | undefined> {
  const [token, signature, extra] = (input.cookieValue ?? '').split('.');
  if (!token || !signature || extra !== undefined) return undefined;
  const expected = Buffer.from(sign(deps, input.userId, token));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  const tokenHash = hashSessionToken(token);
  const device = tokenHash && (await deps.store.findRememberedDevice(tokenHash, deps.clock.now()));
  return device && device.userId === input.userId ? device : undefined;
}

export function listRememberedDevices(deps: ServiceDeps, userId: string): Promise<RememberedDeviceRecord[]> {
  return deps.store.listRememberedDevices(userId, deps.clock.now());
}

/**
 * Forgets one of the user's browsers (`deviceId`) or all of them, audited with why. Called by the user, by an
 * administrator, and whenever the second factors or the password change (so a stolen cookie dies with them).
 */
export async function forgetDevices(
  deps: ServiceDeps,
  input: { userId: string; deviceId?: string; reason: DevicesForgottenReason; context: RequestContext },
): Promise<number> {
  return forgetDevicesWithin(deps, deps.store, input);
}

/** The same, as part of a larger change in the caller's transaction (`tx`), so both commit or neither. */
export async function forgetDevicesWithin(
  deps: ServiceDeps,
  tx: Store,
  input: { userId: string; deviceId?: string; reason: DevicesForgottenReason; context: RequestContext },
): Promise<number> {
  const forgotten = await tx.forgetRememberedDevices(input.userId, input.deviceId ?? null);
  if (forgotten > 0) {
    await tx.appendAuditEvent(
      auditEvent(deps.clock.now(), 'devices_forgotten', 'success', input.userId, input.context, {
        reason: input.reason,
        count: forgotten,
      }),
    );
  }
  return forgotten;
}

/** "Firefox on Linux": enough for a person to recognize a browser in a list; never parsed for decisions. */
export function browserLabel(userAgent: string | null | undefined): string {
  const ua = userAgent ?? '';
  const browser =
    [
      ['Edg/', 'Edge'],
      ['OPR/', 'Opera'],
      ['Firefox/', 'Firefox'],
      ['Chrome/', 'Chrome'],
      ['Safari/', 'Safari'],
    ].find(([marker]) => ua.includes(marker as string))?.[1] ?? 'A browser';
  const system =
    [
      ['Android', 'Android'],
      ['iPhone', 'iPhone'],
      ['iPad', 'iPad'],
      ['Windows', 'Windows'],
      ['Mac OS X', 'macOS'],
      ['Linux', 'Linux'],
    ].find(([marker]) => ua.includes(marker as string))?.[1] ?? null;
  return system ? `${browser} on ${system}` : browser;
}
