import type { AccessPolicy, CompiledAccessRule } from '../core/access-rules.js';
import type { RandomSource } from '../core/random.js';
import type { Argon2idParams, Kdf } from '../core/recovery-code-digest.js';
import type { SealingKeySource } from '../core/sealing-key-ring.js';
import type { ServerKeys } from '../core/server-keys.js';
import type { TotpSettings } from '../core/totp.js';
import type { AttemptCounters, Store } from '../store/store.js';
import type { CarriedAuditEvents } from './audit/carried-audit.js';
import type { Mailer } from './ports/mailer.js';
import type { ServiceMetrics } from './ports/metrics.js';
import type { OutboundHttp } from './ports/outbound-http.js';
import type { ThrottleOptions } from './throttle/throttle-counters.js';

/** Where use cases get "now". A fixed clock in tests; the system clock in production. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** The settings of the use cases that come from start-up configuration (not from the database). */
export interface ServiceOptions {
  kdfParams: Argon2idParams;
  /** Shown in authenticator apps next to the account. */
  issuer: string;
  totp: TotpSettings;
  emailOtp: { enabled: boolean; ttlMs: number; digits: number; maxAttempts: number };
  /** Account passwords: argon2id cost and the blocklist of common and breached passwords. */
  password: { params: Argon2idParams; commonPasswords: ReadonlySet<string> };
  /** Email the user when a recovery code is used or codes are regenerated (needs an SMTP relay). */
  notifications: boolean;
  /** IANA zone for the operator's "today" and "this month" (statistics). */
  timeZone: string;
  /** Failed-attempt throttling; the defaults of core/throttle.ts when omitted. */
  throttle?: ThrottleOptions;
  /** Where links in emails point (unlock links), e.g. https://auth.example.com; relative when omitted. */
  publicUrl?: string;
  /**
   * A one-time link to create the first administrator was issued at start-up (no SPAREKEY_ADMIN_EMAIL):
   * until it is used, public sign-up is closed on every edge (sign-up.ts).
   */
  firstAdminSetupLink?: boolean;
  /** Security keys and passkeys; unavailable when omitted. */
  webauthn?: WebauthnSettings;
  /** Plain http:// webhook endpoints on 127.0.0.1/[::1]/localhost (a development server); off when omitted. */
  webhookAllowHttpLoopback?: boolean;
  /**
   * Forward auth (docs/integrations.md): the domain the session cookie is shared with (return addresses
   * must lie under it) and the configuration's access rules. Off (no shared cookie, no rules) when omitted.
   */
  forwardAuth?: { cookieDomain: string | null; rules: CompiledAccessRule[]; defaultPolicy: AccessPolicy };
}

/** Where security keys work (W3C WebAuthn L2 5.1.4.1 RP ID, 13.4.9 origin validation). */
export interface WebauthnSettings {
  /** The relying party id: SPAREKEY_PUBLIC_URL's host name unless overridden. */
  rpId: string;
  /** Shown by the browser and the authenticator: the issuer. */
  rpName: string;
  /** Every origin a ceremony may come from (scheme, host and port), e.g. https://auth.example.com. */
  origins: readonly string[];
  /** "Sign in with a passkey" on the first page (on by default). */
  passkeySignIn: boolean;
}

/** What every use case is composed from. The edges build one of these in main.ts. */
export interface ServiceDeps {
  store: Store;
  clock: Clock;
  random: RandomSource;
  kdf: Kdf;
  keys: ServerKeys;
  mailer: Mailer;
  /** Webhook deliveries' POSTs (fetch in production). */
  outboundHttp: OutboundHttp;
  options: ServiceOptions;
  /** Counters for operators (Prometheus at the edge); none when omitted. */
  metrics?: ServiceMetrics;
  /** Where throttle counters live; the store when omitted (Redis with REDIS_URL). */
  attemptCounters?: AttemptCounters;
  /** The TOTP sealing keys after rotations; only `keys.sealingKey` when omitted. */
  sealingKeys?: SealingKeySource;
}

/** Who asked, from where: recorded with every audit event (never a secret). */
export interface RequestContext {
  ip?: string | null;
  userAgent?: string | null;
  /** The acting user when it differs from the subject (an administrator or an API key). */
  actorId?: string | null;
  /**
   * A backend calling with an API key on the user's behalf: `ip` is the backend's address, so attempts are
   * throttled per account only, never per address (one busy backend would otherwise block everyone).
   */
  viaBackend?: boolean;
  /**
   * Events the edge decided on before the operation (an API key's use), to commit with the operation's
   * own events instead of in a transaction of their own (audit/carried-audit.ts).
   */
  carriedAudit?: CarriedAuditEvents;
}
