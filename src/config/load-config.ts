import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_EMAIL_OTP_TTL_MS } from '../core/email-otp.js';
import { MINIMUM_TEST_PASSWORD_PARAMS, PASSWORD_ARGON2ID_PARAMS } from '../core/password.js';
import { MINIMUM_TEST_ARGON2ID_PARAMS, OWASP_ARGON2ID_PARAMS } from '../core/recovery-code-digest.js';
import { MIN_SERVER_SECRET_BYTES, parseServerSecret } from '../core/server-keys.js';
import { isValidTimeZone } from '../core/time-zone.js';
import { DEFAULT_TOTP_SETTINGS, type TotpSettings, validateTotpSettings } from '../core/totp.js';
import type { Config, KdfProfile } from './config.js';
import { parseForwardAuthConfig } from './forward-auth-config.js';
import { parseSealingKeysConfig } from './sealing-keys-config.js';
import { parseThrottleConfig } from './throttle-config.js';
import { parseWebauthnConfig } from './webauthn-config.js';

export type ConfigResult = { ok: true; config: Readonly<Config> } | { ok: false; problems: string[] };

const SECRET_FILE = 'secret.key';

/**
 * Reads the environment once. This module is the only place that looks at process.env; everything
 * below the edges receives the typed, frozen Config. Problems are collected so an operator sees all of
 * them at once, each in words.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ConfigResult {
  const problems: string[] = [];
  const port = parsePort(env.PORT, problems);
  const dataDir = resolve(env.SPAREKEY_DATA_DIR ?? './data');
  const databaseUrl = env.DATABASE_URL?.trim();
  const database = databaseUrl
    ? parseDatabaseUrl(databaseUrl, env.SPAREKEY_DATABASE_POOL_SIZE, problems)
    : ({ kind: 'sqlite', path: join(dataDir, 'sparekey.db') } as const);
  const kdfProfile = parseKdfProfile(env.SPAREKEY_KDF_PROFILE, problems);
  const totp = parseTotpSettings(env, problems);
  const mail = parseMail(env, problems);
  const emailOtp = parseEmailOtp(env, problems, mail.url !== null);
  const issuer = env.SPAREKEY_ISSUER?.trim() || 'SpareKey';
  // The otpauth:// label is "issuer:account": a colon in the issuer would make it ambiguous.
  if (issuer.includes(':')) problems.push('SPAREKEY_ISSUER must not contain a colon (:).');
  const admin = parseAdmin(env, problems);
  const host = env.HOST?.trim() || '127.0.0.1';
  const publicUrl = parsePublicUrl(env.SPAREKEY_PUBLIC_URL, `http://${host}:${port}`, problems);
  const passkeySignIn = parseSwitch(env, 'SPAREKEY_PASSKEY_SIGN_IN', 'on', problems);
  const webauthn = parseWebauthnConfig(env, publicUrl, passkeySignIn, problems);
  const notifications = parseSwitch(env, 'SPAREKEY_NOTIFICATIONS', 'on', problems) && mail.url !== null;
  const trustProxy = parseSwitch(env, 'SPAREKEY_TRUST_PROXY', 'off', problems);
  const timeZone = env.SPAREKEY_TIME_ZONE?.trim() || 'UTC';
  if (!isValidTimeZone(timeZone))
    problems.push(`SPAREKEY_TIME_ZONE must be an IANA time zone like Europe/Paris, not "${timeZone}".`);
  const recoveryCodesAtSetup = parseSwitch(env, 'SPAREKEY_ADMIN_RECOVERY_CODES', 'on', problems);
  const throttle = parseThrottleConfig(env, problems);
  const sealingKeys = parseSealingKeysConfig(env, dataDir, problems);
  const forwardAuth = parseForwardAuthConfig(env, problems);
  const logLevel = (env.SPAREKEY_LOG_LEVEL?.trim().toLowerCase() || 'info') as Config['logLevel'];
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(logLevel)) {
    problems.push(`SPAREKEY_LOG_LEVEL must be fatal, error, warn, info, debug or trace, not "${logLevel}".`);
  }
  const metricsToken = env.SPAREKEY_METRICS_TOKEN?.trim() || null;
  const webhookAllowHttpLoopback = parseSwitch(env, 'SPAREKEY_WEBHOOK_ALLOW_HTTP_LOOPBACK', 'off', problems);
  if (metricsToken !== null && metricsToken.length < 16) {
    problems.push('SPAREKEY_METRICS_TOKEN must be at least 16 characters (openssl rand -hex 16).');
  }
  const secret = problems.length === 0 ? loadServerSecret(env, dataDir, database?.kind, problems) : undefined;
  if (problems.length > 0 || !database || !secret) return { ok: false, problems };
  return {
    ok: true,
    config: Object.freeze({
      host,
      port,
      dataDir,
      database,
      serverSecret: secret.bytes,
      serverSecretSource: secret.source,
      sealingKeys,
      kdfProfile,
      kdfParams: kdfProfile === 'minimum' ? MINIMUM_TEST_ARGON2ID_PARAMS : OWASP_ARGON2ID_PARAMS,
      issuer,
      totp,
      mail,
      emailOtp,
      notifications,
      passwordParams: kdfProfile === 'minimum' ? MINIMUM_TEST_PASSWORD_PARAMS : PASSWORD_ARGON2ID_PARAMS,
      admin,
      recoveryCodesAtSetup,
      publicUrl,
      webauthn,
      trustProxy,
      timeZone,
      throttle,
      logLevel,
      metricsToken,
      webhookAllowHttpLoopback,
      forwardAuth,
    }),
  };
}

function parseSwitch(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: 'on' | 'off',
  problems: string[],
): boolean {
  const text = env[name]?.trim().toLowerCase() || fallback;
  if (text !== 'on' && text !== 'off') problems.push(`${name} must be "on" or "off".`);
  return text === 'on';
}

function parseAdmin(env: NodeJS.ProcessEnv, problems: string[]): Config['admin'] {
  const email = env.SPAREKEY_ADMIN_EMAIL?.trim();
  const password = env.SPAREKEY_ADMIN_PASSWORD;
  if (!email && !password) return null;
  if (!email || !password) {
    problems.push('Set both SPAREKEY_ADMIN_EMAIL and SPAREKEY_ADMIN_PASSWORD, or neither.');
    return null;
  }
  return { email, password };
}

function parsePublicUrl(text: string | undefined, fallback: string, problems: string[]): string {
  const value = text?.trim() || fallback;
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
    return url.origin;
  } catch {
    problems.push(
      `SPAREKEY_PUBLIC_URL must be an http(s) address like https://2fa.example.com, not "${value}".`,
    );
    return fallback;
  }
}

function parsePort(text: string | undefined, problems: string[]): number {
  if (text === undefined || text.trim() === '') return 3000;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`PORT must be a whole number from 0 to 65535, not "${text}".`);
  }
  return port;
}

function parseDatabaseUrl(url: string, poolSizeText: string | undefined, problems: string[]) {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    problems.push(
      'DATABASE_URL must be a PostgreSQL URL (postgres://user@host:5432/db). Leave it unset for SQLite.',
    );
    return undefined;
  }
  const poolSize = poolSizeText ? Number(poolSizeText) : 10;
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 200) {
    problems.push('SPAREKEY_DATABASE_POOL_SIZE must be a whole number from 1 to 200.');
  }
  return { kind: 'postgres', url, poolSize } as const;
}

function parseKdfProfile(text: string | undefined, problems: string[]): KdfProfile {
  const profile = text?.trim() || 'owasp';
  if (profile !== 'owasp' && profile !== 'minimum') {
    problems.push(
      'SPAREKEY_KDF_PROFILE must be "owasp" (the default) or "minimum" (benchmarks and tests only).',
    );
    return 'owasp';
  }
  return profile;
}

function parseTotpSettings(env: NodeJS.ProcessEnv, problems: string[]): TotpSettings {
  const window = env.SPAREKEY_TOTP_WINDOW?.trim() || '1';
  const windows: Record<string, TotpSettings['window']> = {
    '1': { past: 1, future: 1 },
    past: { past: 1, future: 0 },
    '0': { past: 0, future: 0 },
  };
  const chosen = windows[window];
  if (!chosen)
    problems.push('SPAREKEY_TOTP_WINDOW must be "1" (one step each way, the default), "past" or "0".');
  const settings: TotpSettings = {
    ...DEFAULT_TOTP_SETTINGS,
    algorithm: (env.SPAREKEY_TOTP_ALGORITHM?.trim().toUpperCase() || 'SHA1') as TotpSettings['algorithm'],
    digits: Number(env.SPAREKEY_TOTP_DIGITS?.trim() || 6),
    window: chosen ?? DEFAULT_TOTP_SETTINGS.window,
  };
  problems.push(...validateTotpSettings(settings).map((problem) => `TOTP settings: ${problem}`));
  return settings;
}

function parseMail(env: NodeJS.ProcessEnv, problems: string[]): Config['mail'] {
  const url = env.SPAREKEY_SMTP_URL?.trim() || null;
  if (url !== null && !/^smtps?:\/\//.test(url)) {
    problems.push(
      'SPAREKEY_SMTP_URL must look like smtp://user:password@host:587 or smtps://user:password@host:465.',
    );
  }
  return { url, from: env.SPAREKEY_MAIL_FROM?.trim() || 'SpareKey <no-reply@localhost>' };
}

function parseEmailOtp(env: NodeJS.ProcessEnv, problems: string[], haveMail: boolean): Config['emailOtp'] {
  const switchText = env.SPAREKEY_EMAIL_OTP?.trim().toLowerCase() || 'on';
  if (switchText !== 'on' && switchText !== 'off') problems.push('SPAREKEY_EMAIL_OTP must be "on" or "off".');
  const ttlSeconds = Number(env.SPAREKEY_EMAIL_OTP_TTL_SECONDS?.trim() || DEFAULT_EMAIL_OTP_TTL_MS / 1000);
  // NIST SP 800-63B 5.1.3.2: "invalid if not completed within 10 minutes".
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 30 || ttlSeconds > 600) {
    problems.push(
      'SPAREKEY_EMAIL_OTP_TTL_SECONDS must be a whole number from 30 to 600 (10 minutes at most).',
    );
  }
  return { enabled: switchText !== 'off' && haveMail, ttlMs: ttlSeconds * 1000 };
}

/**
 * The server secret keys the recovery-code pepper and the TOTP seed encryption, so it must live outside
 * the database. With embedded SQLite and no SPAREKEY_SECRET, one is generated into the data directory
 * (mode 0600) on first start. With PostgreSQL several instances must share it, so it must be given.
 */
function loadServerSecret(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  databaseKind: 'sqlite' | 'postgres' | undefined,
  problems: string[],
): { bytes: Uint8Array; source: Config['serverSecretSource'] } | undefined {
  const text = env.SPAREKEY_SECRET?.trim();
  if (text) {
    const bytes = parseServerSecret(text);
    if (!bytes) {
      problems.push(
        `SPAREKEY_SECRET must be at least ${MIN_SERVER_SECRET_BYTES} random bytes in base64 or hex ` +
          '(for example the output of: openssl rand -base64 32).',
      );
    }
    return bytes && { bytes, source: 'environment' };
  }
  if (databaseKind === 'postgres') {
    problems.push(
      'SPAREKEY_SECRET is required with DATABASE_URL: every instance must share it (openssl rand -base64 32).',
    );
    return undefined;
  }
  const path = join(dataDir, SECRET_FILE);
  if (existsSync(path)) {
    const bytes = parseServerSecret(readFileSync(path, 'utf8').trim());
    if (!bytes) problems.push(`The secret file ${path} is damaged: restore it from your backup.`);
    return bytes && { bytes, source: 'data-dir' };
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const bytes = new Uint8Array(randomBytes(32));
  writeFileSync(path, `${Buffer.from(bytes).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { bytes, source: 'generated' };
}
