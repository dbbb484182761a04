import { loadCommonPasswords } from './config/common-passwords.js';
import type { Config } from './config/config.js';
import { sealingKeySource } from './config/sealing-keys-file.js';
import { DEFAULT_EMAIL_OTP_DIGITS, EMAIL_OTP_MAX_ATTEMPTS } from './core/email-otp.js';
import { argon2idKdf } from './core/recovery-code-digest.js';
import { deriveServerKeys } from './core/server-keys.js';
import { createSmtpMailer } from './mail/smtp-mailer.js';
import { fetchOutboundHttp } from './outbound/fetch-outbound-http.js';
import { type ServiceDeps, systemClock } from './service/deps.js';
import type { Mailer } from './service/ports/mailer.js';
import { systemRandom } from './service/ports/system-random.js';
import { createRedisAttemptCounters } from './store/redis/redis-attempt-counters.js';
import type { Store } from './store/store.js';

/** Production wiring: the system clock and CSPRNG, argon2id, and keys derived from the server secret. */
export function createServiceDeps(config: Readonly<Config>, store: Store): ServiceDeps {
  const keys = deriveServerKeys(config.serverSecret);
  return {
    store,
    clock: systemClock,
    random: systemRandom,
    kdf: argon2idKdf,
    mailer: config.mail.url ? createSmtpMailer({ url: config.mail.url, from: config.mail.from }) : noMailer,
    outboundHttp: fetchOutboundHttp,
    keys,
    options: {
      kdfParams: config.kdfParams,
      issuer: config.issuer,
      totp: config.totp,
      emailOtp: {
        enabled: config.emailOtp.enabled,
        ttlMs: config.emailOtp.ttlMs,
        digits: DEFAULT_EMAIL_OTP_DIGITS,
        maxAttempts: EMAIL_OTP_MAX_ATTEMPTS,
      },
      password: { params: config.passwordParams, commonPasswords: loadCommonPasswords() },
      notifications: config.notifications,
      timeZone: config.timeZone,
      throttle: config.throttle.options,
      publicUrl: config.publicUrl,
      webauthn: { ...config.webauthn, rpName: config.issuer },
      webhookAllowHttpLoopback: config.webhookAllowHttpLoopback,
      forwardAuth: config.forwardAuth,
    },
    sealingKeys: sealingKeySource(config.sealingKeys, keys.sealingKey),
    attemptCounters: config.throttle.redisUrl
      ? createRedisAttemptCounters(config.throttle.redisUrl)
      : undefined,
  };
}

/** Without an SMTP relay nothing that needs email is offered; reaching this is a programming error. */
const noMailer: Mailer = {
  send: async () => {
    throw new Error('No SMTP relay is configured (SPAREKEY_SMTP_URL)');
  },
};
