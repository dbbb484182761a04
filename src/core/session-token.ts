import * as crypto from 'node:crypto';
import type { RandomSource } from './random.js';

/** 256 bits from the CSPRNG (OWASP Session CS: at least 64 bits of entropy; we take a key's worth). */
const SESSION_TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** How long each stage of a session lives (NIST SP 800-63B 7.2 for AAL2: 12 h absolute, 30 min idle). */
export const SESSION_LIFETIMES = Object.freeze({
  /** Between a correct password and the second factor. */
  secondFactorMs: 10 * 60 * 1000,
  signedInIdleMs: 30 * 60 * 1000,
  signedInAbsoluteMs: 12 * 60 * 60 * 1000,
});

export function generateSessionToken(random: RandomSource): string {
  return Buffer.from(random.bytes(SESSION_TOKEN_BYTES)).toString('base64url');
}

/**
 * SHA-256 in hex. Forward auth hashes a token for every request a proxy serves, so the one-shot
 * `crypto.hash` (no Hash object to build and free) where Node has it (20.12 and later); package.json
 * promises Node >= 20, so createHash on older ones.
 */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text).digest('hex');

/** The store keeps only this hash, so a database copy cannot be turned back into cookies. */
export function hashSessionToken(token: string): string | undefined {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  return sha256Hex(token);
}

/** The idle deadline slides with use but never passes the absolute one. */
export function signedInDeadline(createdAt: Date, now: Date): Date {
  return new Date(
    Math.min(
      now.getTime() + SESSION_LIFETIMES.signedInIdleMs,
      createdAt.getTime() + SESSION_LIFETIMES.signedInAbsoluteMs,
    ),
  );
}
