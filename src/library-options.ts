import type { CompositionOptions, DatabaseConfig } from './compose.js';
import { DEFAULT_EMAIL_OTP_TTL_MS } from './core/email-otp.js';
import { MINIMUM_TEST_ARGON2ID_PARAMS, OWASP_ARGON2ID_PARAMS } from './core/recovery-code-digest.js';
import { parseServerSecret } from './core/server-keys.js';
import { DEFAULT_THROTTLE_OPTIONS, type ThrottleOptions } from './core/throttle.js';
import { isValidTimeZone } from './core/time-zone.js';
import { DEFAULT_TOTP_SETTINGS, type TotpSettings, validateTotpSettings } from './core/totp.js';

export interface SpareKeyOptions {
  /**
   * `{ kind: 'sqlite', path }` (embedded) or `{ kind: 'postgres', url }` (several instances). On PostgreSQL
   * SpareKey's tables, and its migration bookkeeping, live in their own schema, `sparekey` unless `schema`
   * names another: pointed at your application's database it never touches `public`.
   */
  database: DatabaseConfig;
  /** At least 32 random bytes, or their base64/hex text (`openssl rand -base64 32`). Keep it outside the database. */
  secret: Uint8Array | string;
  /** Shown in authenticator apps. */
  issuer?: string;
  totp?: Partial<TotpSettings>;
  /** SMTP relay for email codes and security notices; without it neither is offered. */
  smtp?: { url: string; from: string };
  /** `owasp` (default) or `minimum` (tests and benchmarks only). */
  kdfProfile?: 'owasp' | 'minimum';
  /** IANA time zone of the statistics' days and months. Default UTC. */
  timeZone?: string;
  /** Failed-attempt throttling; the documented defaults (docs/security.md) when omitted. */
  throttle?: Partial<ThrottleOptions>;
  /** Keep the throttle counters in Redis instead of the database (shared by every instance). */
  redisUrl?: string;
  /** Where the links in emails (unlock links) point, e.g. https://auth.example.com. */
  publicUrl?: string;
}

/** Where an embedded SpareKey keeps its tables in the host's PostgreSQL database. */
export const EMBEDDED_POSTGRES_SCHEMA = 'sparekey';

/**
 * The library's options, checked (a RangeError names the problem) and with the documented defaults, as
 * the composition root's options and the database to open. No security keys, webhooks loopback, forward
 * auth or sealing-key rotation: those belong to the server's configuration.
 */
export function normalizeLibraryOptions(options: SpareKeyOptions): {
  composition: CompositionOptions;
  database: DatabaseConfig;
} {
  const secret = typeof options.secret === 'string' ? parseServerSecret(options.secret) : options.secret;
  if (!secret || secret.length < 32)
    throw new RangeError('createSpareKey: the secret must be at least 32 random bytes');
  const totp = { ...DEFAULT_TOTP_SETTINGS, ...options.totp };
  const totpProblems = validateTotpSettings(totp);
  if (totpProblems.length > 0) throw new RangeError(`createSpareKey: ${totpProblems.join(' ')}`);
  const timeZone = options.timeZone ?? 'UTC';
  if (!isValidTimeZone(timeZone)) throw new RangeError(`createSpareKey: unknown time zone ${timeZone}`);
  const kdfParams = options.kdfProfile === 'minimum' ? MINIMUM_TEST_ARGON2ID_PARAMS : OWASP_ARGON2ID_PARAMS;
  const composition: CompositionOptions = {
    serverSecret: secret,
    issuer: options.issuer ?? 'SpareKey',
    totp,
    kdfParams,
    passwordParams: kdfParams,
    smtp: options.smtp ?? null,
    noSmtpMessage: 'createSpareKey: no SMTP relay was configured (options.smtp)',
    emailOtp: { enabled: options.smtp !== undefined, ttlMs: DEFAULT_EMAIL_OTP_TTL_MS },
    notifications: options.smtp !== undefined,
    timeZone,
    throttle: { ...DEFAULT_THROTTLE_OPTIONS, ...options.throttle },
    redisUrl: options.redisUrl ?? null,
    publicUrl: options.publicUrl,
  };
  const database =
    options.database.kind === 'postgres'
      ? { ...options.database, schema: options.database.schema ?? EMBEDDED_POSTGRES_SCHEMA }
      : options.database;
  return { composition, database };
}
