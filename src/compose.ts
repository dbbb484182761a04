import { loadCommonPasswords } from './config/common-passwords.js';
import type { Config } from './config/config.js';
import type { SealingKeysConfig } from './config/sealing-keys-config.js';
import { sealingKeySource } from './config/sealing-keys-file.js';
import { DEFAULT_EMAIL_OTP_DIGITS, EMAIL_OTP_MAX_ATTEMPTS } from './core/email-otp.js';
import { type Argon2idParams, argon2idKdf } from './core/recovery-code-digest.js';
import { deriveServerKeys } from './core/server-keys.js';
import type { ThrottleOptions } from './core/throttle.js';
import type { TotpSettings } from './core/totp.js';
import { createSmtpMailer } from './mail/smtp-mailer.js';
import { fetchOutboundHttp } from './outbound/fetch-outbound-http.js';
import { type ServiceDeps, type ServiceOptions, systemClock } from './service/deps.js';
import type { Mailer } from './service/ports/mailer.js';
import { systemRandom } from './service/ports/system-random.js';
import { createUseCases, type UseCases } from './service/use-cases.js';
import { type DatabaseConfig, openStore } from './store/open-store.js';
import { createRedisAttemptCounters } from './store/redis/redis-attempt-counters.js';
import type { Store } from './store/store.js';

export type { DatabaseConfig };

/**
 * What the service dependencies are built from, already validated and with every default applied: the
 * server's configuration (compositionOptionsFromConfig) and the library's options (library-options.ts)
 * both become one of these, so the two cannot drift in how they wire the use cases.
 */
export interface CompositionOptions {
  /** At least 32 bytes; every server key (TOTP sealing, HMACs) is derived from it. */
  serverSecret: Uint8Array;
  issuer: string;
  totp: TotpSettings;
  /** Recovery codes' argon2id cost. */
  kdfParams: Argon2idParams;
  /** Account passwords' argon2id cost. */
  passwordParams: Argon2idParams;
  /** The SMTP relay; without one nothing that needs email is offered. */
  smtp: { url: string; from: string } | null;
  /** What the mailer throws if a use case sends without a relay (a programming error): names the setting. */
  noSmtpMessage: string;
  emailOtp: { enabled: boolean; ttlMs: number };
  notifications: boolean;
  timeZone: string;
  throttle: ThrottleOptions;
  /** Throttle counters in Redis (shared by every instance) instead of the database. */
  redisUrl: string | null;
  publicUrl?: string;
  webauthn?: ServiceOptions['webauthn'];
  webhookAllowHttpLoopback?: boolean;
  forwardAuth?: ServiceOptions['forwardAuth'];
  /** Rotated TOTP sealing keys (SPAREKEY_SEALING_KEYS_FILE); only the derived key when omitted. */
  sealingKeys?: SealingKeysConfig;
}

/** The one composition root: the system clock and CSPRNG, argon2id, keys derived from the secret. */
export function buildServiceDeps(options: CompositionOptions, store: Store): ServiceDeps {
  const keys = deriveServerKeys(options.serverSecret);
  return {
    store,
    clock: systemClock,
    random: systemRandom,
    kdf: argon2idKdf,
    mailer: options.smtp ? createSmtpMailer(options.smtp) : noMailer(options.noSmtpMessage),
    outboundHttp: fetchOutboundHttp,
    keys,
    options: {
      kdfParams: options.kdfParams,
      issuer: options.issuer,
      totp: options.totp,
      emailOtp: {
        ...options.emailOtp,
        digits: DEFAULT_EMAIL_OTP_DIGITS,
        maxAttempts: EMAIL_OTP_MAX_ATTEMPTS,
      },
      password: { params: options.passwordParams, commonPasswords: loadCommonPasswords() },
      notifications: options.notifications,
      timeZone: options.timeZone,
      throttle: options.throttle,
      publicUrl: options.publicUrl,
      webauthn: options.webauthn,
      webhookAllowHttpLoopback: options.webhookAllowHttpLoopback,
      forwardAuth: options.forwardAuth,
    },
    sealingKeys: options.sealingKeys && sealingKeySource(options.sealingKeys, keys.sealingKey),
    attemptCounters: options.redisUrl ? createRedisAttemptCounters(options.redisUrl) : undefined,
  };
}

/** The server's configuration as composition options. */
export function compositionOptionsFromConfig(config: Readonly<Config>): CompositionOptions {
  return {
    serverSecret: config.serverSecret,
    issuer: config.issuer,
    totp: config.totp,
    kdfParams: config.kdfParams,
    passwordParams: config.passwordParams,
    smtp: config.mail.url ? { url: config.mail.url, from: config.mail.from } : null,
    noSmtpMessage: 'No SMTP relay is configured (SPAREKEY_SMTP_URL)',
    emailOtp: { enabled: config.emailOtp.enabled, ttlMs: config.emailOtp.ttlMs },
    notifications: config.notifications,
    timeZone: config.timeZone,
    throttle: config.throttle.options,
    redisUrl: config.throttle.redisUrl,
    publicUrl: config.publicUrl,
    webauthn: { ...config.webauthn, rpName: config.issuer },
    webhookAllowHttpLoopback: config.webhookAllowHttpLoopback,
    forwardAuth: config.forwardAuth,
    sealingKeys: config.sealingKeys,
  };
}

/** Production wiring of the server (and the CLI) over a store it opened. */
export function createServiceDeps(config: Readonly<Config>, store: Store): ServiceDeps {
  return buildServiceDeps(compositionOptionsFromConfig(config), store);
}

/**
 * Opens the database and builds the dependencies over it, for an edge that holds no store (the library):
 * `close` releases what was opened (the Redis connection, then the pool or file).
 */
export async function openServices(
  options: CompositionOptions,
  database: DatabaseConfig,
): Promise<{ useCases: UseCases; close: () => Promise<void> }> {
  const opened = await openStore(database);
  const deps = buildServiceDeps(options, opened.store);
  return {
    useCases: createUseCases(deps),
    close: async () => {
      await deps.attemptCounters?.close?.();
      await opened.close();
    },
  };
}

/** Without an SMTP relay nothing that needs email is offered; reaching this is a programming error. */
function noMailer(message: string): Mailer {
  return {
    send: async () => {
      throw new Error(message);
    },
  };
}
