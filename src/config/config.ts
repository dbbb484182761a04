import type { Argon2idParams } from '../core/recovery-code-digest.js';
import type { TotpSettings } from '../core/totp.js';
import type { DatabaseConfig } from '../store/open-store.js';
import type { ForwardAuthConfig } from './forward-auth-config.js';
import type { SealingKeysConfig } from './sealing-keys-config.js';
import type { ThrottleConfig } from './throttle-config.js';
import type { WebauthnConfig } from './webauthn-config.js';

export type KdfProfile = 'owasp' | 'minimum';

/** Everything SpareKey reads from its environment, validated once at start-up and then frozen. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  database: DatabaseConfig;
  /** The server secret (>= 32 bytes) from SPAREKEY_SECRET or the data directory's secret file. */
  serverSecret: Uint8Array;
  /** Where the secret came from, for the start-up log (never the secret itself). */
  serverSecretSource: 'environment' | 'generated' | 'data-dir';
  /** TOTP sealing keys beyond the one from the server secret (rotation); see sealing-keys-config.ts. */
  sealingKeys: SealingKeysConfig;
  kdfProfile: KdfProfile;
  kdfParams: Argon2idParams;
  issuer: string;
  totp: TotpSettings;
  /** SMTP relay; null when none is configured (email codes are then unavailable). */
  mail: { url: string | null; from: string };
  /** On only when switched on (the default) and an SMTP relay is configured. */
  emailOtp: { enabled: boolean; ttlMs: number };
  /** Security notices by email (recovery code used, codes regenerated): on when a relay is configured. */
  notifications: boolean;
  /** Account-password hashing cost: OWASP's argon2id, or the benchmark minimum with the same profile switch. */
  passwordParams: Argon2idParams;
  /** The first administrator, created on first start with an empty database. */
  admin: { email: string; password: string } | null;
  /** With `admin`: turn the recovery-code master switch on when that administrator is created. */
  recoveryCodesAtSetup: boolean;
  /** Where people reach SpareKey (for the one-time setup link); the listening address by default. */
  publicUrl: string;
  /** Security keys and passkeys: RP ID and origins (from publicUrl unless overridden), passkey sign-in. */
  webauthn: WebauthnConfig;
  /** Behind a reverse proxy: take the client address from X-Forwarded-For (the audit log records it). */
  trustProxy: boolean;
  /** IANA time zone of the statistics' "today" and "this month". */
  timeZone: string;
  /** Failed-attempt throttling, and Redis for its counters when REDIS_URL is set. */
  throttle: ThrottleConfig;
  /** pino level of the JSON logs. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Bearer token for GET /metrics; null: loopback clients only. */
  metricsToken: string | null;
  /** Accept plain http:// webhook endpoints on this machine: a development server only (docs/webhooks.md). */
  webhookAllowHttpLoopback: boolean;
  /** Forward auth: the shared cookie domain and the access rules file (forward-auth-config.ts). */
  forwardAuth: ForwardAuthConfig;
}
