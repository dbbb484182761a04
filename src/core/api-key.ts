import { createHash, timingSafeEqual } from 'node:crypto';
import type { RandomSource } from './random.js';

/**
 * What a key may do. `admin` includes every other scope. `mfa:write` is everything a backend that only
 * does two-factor needs for its users (create, enroll, verify, codes, reset, delete by its own ids), so
 * such a backend never holds `admin`; `mfa:read` reads their status.
 */
export const apiKeyScopes = [
  'recovery_codes:read',
  'recovery_codes:write',
  'mfa:reset',
  'audit:read',
  'admin',
  'mfa:read',
  'mfa:write',
] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

const KEY_SHAPE = /^sk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

/** `sk_<12-char id>_<256-bit secret>`: the id finds the row, the secret proves possession. */
export function generateApiKey(random: RandomSource): { id: string; secret: string; key: string } {
  const id = Buffer.from(random.bytes(9)).toString('hex').slice(0, 12);
  const secret = Buffer.from(random.bytes(32)).toString('base64url');
  return { id, secret, key: `sk_${id}_${secret}` };
}

export function parseApiKey(key: string): { id: string; secret: string } | undefined {
  const match = KEY_SHAPE.exec(key);
  return match ? { id: match[1] as string, secret: match[2] as string } : undefined;
}

/** SHA-256 is enough for a 256-bit random secret (ASVS 5.0 6.5.2: no slow hash needed above 112 bits). */
export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function apiKeySecretMatches(secret: string, storedHash: string): boolean {
  const candidate = Buffer.from(hashApiKeySecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return candidate.length === stored.length && timingSafeEqual(candidate, stored);
}

/** The scopes each scope also grants (besides itself); `admin` grants all. */
export const impliedScopes: Readonly<Partial<Record<ApiKeyScope, readonly ApiKeyScope[]>>> = {
  'mfa:write': ['mfa:read', 'recovery_codes:read', 'recovery_codes:write', 'mfa:reset'],
  'mfa:read': ['recovery_codes:read'],
};

export function scopeAllows(granted: readonly string[], needed: ApiKeyScope): boolean {
  return (
    granted.includes('admin') ||
    granted.includes(needed) ||
    granted.some((scope) => impliedScopes[scope as ApiKeyScope]?.includes(needed) === true)
  );
}
