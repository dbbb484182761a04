import type { CompositionOptions, DatabaseConfig } from './compose.js';
import { DEFAULT_EMAIL_OTP_TTL_MS } from './core/email-otp.js';
import { MINIMUM_TEST_ARGON2ID_PARAMS, OWASP_ARGON2ID_PARAMS } from './core/recovery-code-digest.js';
import { parseServerSecret } from './core/server-keys.js';
import { DEFAULT_THROTTLE_OPTIONS, type ThrottleOptions } from './core/throttle.js';
import { isValidTimeZone } from './core/time-zone.js';
import { DEFAULT_TOTP_SETTINGS, type TotpSettings, validateTotpSettings } from './core/totp.js';
import { checkRelyingParty } from './core/webauthn-relying-party.js';

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
  /** Security keys and passkeys (`sparekey.securityKeys`); not offered when omitted. */
  webauthn?: WebauthnOptions;
}

/**
 * The WebAuthn relying party: where your users' keys work. Keys are registered to `rpId`, so changing it
 * later makes every registered key unusable.
 */
export interface WebauthnOptions {
  /** Your site's host name or a parent of it, e.g. `example.com` (no scheme, no port). */
  rpId: string;
  /** Shown by the browser and the authenticator; `issuer` when omitted. */
  rpName?: string;
  /**
   * Every origin your pages run the ceremonies on (scheme, host and port), e.g.
   * `['https://app.example.com']`; each on `rpId` (its host or a subdomain). A key's answer from any other
   * origin is refused.
   */
  origins: readonly string[];
}

/** Where an embedded SpareKey keeps its tables in the host's PostgreSQL database. */
export const EMBEDDED_POSTGRES_SCHEMA = 'sparekey';

/**
 * The library's options, checked (a RangeError names the problem) and with the documented defaults, as
 * the composition root's options and the database to open. No webhooks loopback, forward auth or
 * sealing-key rotation: those belong to the server's configuration.
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
    webauthn: options.webauthn && relyingParty(options.webauthn, options.issuer ?? 'SpareKey'),
  };
  const database =
    options.database.kind === 'postgres'
      ? { ...options.database, schema: options.database.schema ?? EMBEDDED_POSTGRES_SCHEMA }
      : options.database;
  return { composition, database };
}

/**
 * The relying party, checked like the server's SPAREKEY_WEBAUTHN_* settings. Passkey sign-in (a key alone
 * signs a person in) is a page of SpareKey's own server, so it is off for an embedding host: its keys are a
 * second factor after the host's own password.
 */
function relyingParty(options: WebauthnOptions, issuer: string): NonNullable<CompositionOptions['webauthn']> {
  const rpId = typeof options.rpId === 'string' ? options.rpId.trim().toLowerCase() : '';
  if (!/^[a-z0-9.-]+$/.test(rpId) || rpId.startsWith('.') || rpId.endsWith('.'))
    throw new RangeError(
      `createSpareKey: webauthn.rpId must be a host name like example.com, not "${options.rpId}"`,
    );
  if (!Array.isArray(options.origins) || options.origins.length === 0)
    throw new RangeError(
      'createSpareKey: webauthn.origins must name at least one origin, e.g. https://app.example.com',
    );
  const { origins, problems } = checkRelyingParty(rpId, options.origins);
  const [problem] = problems;
  if (problem)
    throw new RangeError(
      problem.kind === 'not_an_origin'
        ? `createSpareKey: webauthn.origins: "${problem.text}" is not an http(s) origin like https://app.example.com`
        : `createSpareKey: webauthn.origins: ${problem.origin} is not on ${rpId} (its host or a subdomain of it)`,
    );
  return { rpId, rpName: options.rpName?.trim() || issuer, origins, passkeySignIn: false };
}
