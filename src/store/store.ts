import type { AuditEvent, AuditEventInput, SealedAuditEvent } from '../core/audit.js';
import type {
  AttemptKind,
  ChargeVerdict,
  SettleMode,
  ThrottlePolicy,
  ThrottleState,
} from '../core/throttle.js';
import type { OidcStore } from './oidc-store.js';

/**
 * The storage interface, in domain terms. Every write that can lose a race reports whether it won, so
 * the service layer never needs a read-check-write of its own (see ../../shared/FIELD-DEFECTS.md).
 *
 * Each method is atomic on its own. `transaction` groups several calls into one atomic unit; inside
 * it, the methods of the `Store` handed to the callback run in that transaction.
 */
export interface Store extends AttemptCounters, OidcStore {
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T>;

  // Users
  createUser(
    user: NewUser,
  ): Promise<{ created: true } | { created: false; reason: 'email_taken' | 'external_id_taken' }>;
  /** Case-insensitive on the email address. */
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  findUserById(userId: string): Promise<UserRecord | undefined>;
  /** The user a host application created under its own id (exact match). */
  findUserByExternalId(externalId: string): Promise<UserRecord | undefined>;
  /** Sets (or, with null, removes) the email address; refused when another account has it. */
  setUserEmail(
    userId: string,
    email: string | null,
  ): Promise<{ updated: true } | { updated: false; reason: 'user_not_found' | 'email_taken' }>;
  /**
   * Deletes the user and, through the foreign keys, everything that is theirs (roles, factors, recovery
   * codes, sessions, remembered browsers, links, emailed codes, throttle rows), and the API keys they
   * created, under the user's lock. Audit events are not touched (they hold the id only).
   */
  deleteUser(userId: string): Promise<DeletedUser | undefined>;
  /** Replaces the user's password hash; `updated` is false for an unknown user. */
  setPasswordHash(userId: string, passwordHash: string): Promise<{ updated: boolean }>;
  setUserRoles(userId: string, roles: readonly string[]): Promise<void>;
  countUsers(): Promise<number>;
  /** Every account, by email (keyset: pass the last email as `afterEmail`). */
  listUsers(query: { afterEmail?: string; limit: number }): Promise<UserRecord[]>;
  /** Roles administrators added (the built-in ones are not stored). */
  listCustomRoles(): Promise<string[]>;
  /** Adds a role; `added` is false when it already exists. */
  addCustomRole(name: string, at: Date): Promise<{ added: boolean }>;
  /**
   * Users that have a recovery-code set, ordered by email then id (keyset pagination: pass the last row's
   * email and id as `after`), optionally only emails starting with `emailPrefix` (case-insensitive).
   */
  listUsersWithCodes(query: UsersWithCodesQuery): Promise<UserWithCodes[]>;

  // Second factors (TOTP and email). A factor is pending until `confirmedAt` is set.
  createFactor(factor: NewFactor): Promise<void>;
  findFactor(userId: string, factorId: string): Promise<SecretFactorRecord | undefined>;
  /**
   * The user's factors: authenticator apps and email (oldest first), then security keys (kind `webauthn`,
   * confirmed when registered; their details are in `listWebauthnCredentials`).
   */
  listFactors(userId: string): Promise<FactorRecord[]>;
  /** How many factors of each kind exist, and how many users have at least one of that kind (statistics). */
  countFactorsByKind(): Promise<{ kind: FactorKind; factors: number; users: number }[]>;
  /** Confirms a pending factor. `confirmed` is false when it was already confirmed or is gone. */
  confirmFactor(userId: string, factorId: string, at: Date): Promise<{ confirmed: boolean }>;
  /** Removes a factor (a security key too); `removed` is false when there was none. */
  deleteFactor(userId: string, factorId: string): Promise<{ removed: boolean }>;
  /**
   * Removes every factor of the user (confirmed and pending, security keys included) and returns how many
   * were removed.
   */
  deleteAllFactors(userId: string): Promise<number>;
  /**
   * Records that TOTP time step `step` was accepted. Conditional: wins only when `step` is greater than
   * the last accepted step, so a step (or any earlier one) is accepted at most once, even when
   * concurrent requests race (RFC 6238 5.2; STANDARDS req. 23).
   */
  recordTotpStep(factorId: string, step: number, at: Date): Promise<{ recorded: boolean }>;
  /**
   * Sealed TOTP seeds in factor-id order after `afterId` (keyset pagination), for re-sealing under a new key.
   */
  listSealedSecrets(afterId: string | null, limit: number): Promise<SealedSecretRecord[]>;
  /**
   * Replaces a factor's sealed seed only while it still holds `expected`, so a re-seal never overwrites a
   * seed that was re-enrolled meanwhile; `replaced` is false otherwise.
   */
  replaceSealedSecret(factorId: string, expected: string, next: string): Promise<{ replaced: boolean }>;

  // Security keys and passkeys (WebAuthn).
  /** `created` is false when the credential id is already registered (to this or any other user). */
  createWebauthnCredential(
    credential: NewWebauthnCredential,
  ): Promise<{ created: true } | { created: false; reason: 'credential_taken' }>;
  /** The user's keys, oldest first. */
  listWebauthnCredentials(userId: string): Promise<WebauthnCredentialRecord[]>;
  /** The key with this credential id, whoever owns it (passkey sign-in finds the user this way). */
  findWebauthnCredential(credentialId: string): Promise<WebauthnCredentialRecord | undefined>;
  /**
   * Records a verified use: the new signature counter and backup state. Conditional: wins only when the
   * counter moves forward (or stays 0 on an authenticator that keeps none), so a counter that goes
   * backwards or repeats is refused, even between two concurrent uses (WebAuthn L2 6.1.1).
   */
  recordWebauthnUse(
    id: string,
    use: { counter: number; backedUp: boolean; at: Date },
  ): Promise<{ recorded: boolean }>;
  /** Renames one of the user's keys (never another user's). */
  renameWebauthnCredential(userId: string, id: string, name: string): Promise<{ renamed: boolean }>;
  createWebauthnChallenge(challenge: NewWebauthnChallenge): Promise<void>;
  /**
   * Spends a challenge with one conditional update: only for its ceremony and binding, unused, and
   * unexpired at `at`. Of concurrent spenders exactly one gets it (with the user it was issued for).
   */
  consumeWebauthnChallenge(input: {
    challenge: string;
    ceremony: WebauthnCeremony;
    bindingHash: string;
    at: Date;
  }): Promise<{ userId: string | null } | undefined>;

  // Recovery codes: at most one live set per user.
  /**
   * Replaces the user's set with `set` in one transaction: after it commits, every code of the old set
   * is invalid and the new set is complete. Concurrent calls for one user serialize; the last to commit wins.
   */
  replaceRecoveryCodeSet(userId: string, set: NewRecoveryCodeSet): Promise<void>;
  /** The stored digest for one slot of the user's live set (used or not), for verification. */
  findRecoveryCode(userId: string, slot: number): Promise<RecoveryCodeRecord | undefined>;
  /**
   * Marks one code used: `UPDATE ... WHERE used_at IS NULL`. Exactly one concurrent caller gets
   * `consumed: true`, with what its set has left; a code from a replaced set is never consumed.
   */
  consumeRecoveryCode(setId: string, slot: number, at: Date): Promise<RecoveryCodeConsumption>;
  getRecoveryCodeSummary(userId: string): Promise<RecoveryCodeSummary | undefined>;
  /** Every code of the user's current set as slot and time of use (never a code or digest), in slot order. */
  listRecoveryCodeSlots(userId: string): Promise<{ slot: number; usedAt: Date | null }[]>;
  /** Deletes the user's set; returns whether there was one. */
  deleteRecoveryCodeSet(userId: string): Promise<{ deleted: boolean }>;
  /** How many sets have each `remaining` value (maintained counters: exact and cheap at any scale). */
  getRecoveryCodeSetCounts(): Promise<{ remaining: number; sets: number }[]>;

  // Email one-time codes, bound to the sign-in attempt that asked for them.
  /** Stores `challenge` and kills every earlier challenge of the same sign-in attempt (a resend). */
  replaceEmailOtpChallenge(challenge: NewEmailOtpChallenge): Promise<void>;
  findEmailOtpChallenge(attemptId: string): Promise<EmailOtpChallengeRecord | undefined>;
  /**
   * Charges one attempt against the challenge before it is evaluated. Wins only while the challenge is
   * unconsumed and has fewer than `maxAttempts` attempts, so concurrent guesses cannot exceed the cap.
   */
  chargeEmailOtpAttempt(challengeId: string, maxAttempts: number): Promise<{ charged: boolean }>;
  consumeEmailOtpChallenge(challengeId: string, at: Date): Promise<{ consumed: boolean }>;

  // Settings (a JSON document per key, validated by the service)
  getSetting(key: string): Promise<unknown | undefined>;
  putSetting(key: string, value: unknown, at: Date): Promise<void>;
  /** Stores `value` only when `key` has never been set: exactly one concurrent claimant wins. */
  claimSetting(key: string, value: unknown, at: Date): Promise<{ claimed: boolean }>;

  // Browser sessions, keyed by the SHA-256 of the cookie token (the token itself is never stored).
  createSession(session: NewSession): Promise<void>;
  findSession(idHash: string): Promise<SessionRecord | undefined>;
  /**
   * Rotation: deletes `oldIdHash` and creates `next` in one transaction, only when the old session still
   * exists. Of two concurrent rotations of one session exactly one wins; the loser creates nothing.
   */
  replaceSession(oldIdHash: string, next: NewSession): Promise<{ replaced: boolean }>;
  /** Slides the idle deadline; never moves `expiresAt` later than the caller computed. */
  touchSession(idHash: string, lastSeenAt: Date, expiresAt: Date): Promise<void>;
  deleteSession(idHash: string): Promise<{ deleted: boolean }>;
  /** Ends every session of the user except `exceptIdHash`; returns how many ended. */
  deleteUserSessions(userId: string, exceptIdHash?: string): Promise<number>;
  /** Housekeeping: removes sessions whose `expiresAt` is at or before `now`. */
  deleteExpiredSessions(now: Date): Promise<number>;

  // API keys (server-to-server)
  createApiKey(key: NewApiKey): Promise<void>;
  findApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** `revoked` is false when the key was unknown or already revoked. */
  revokeApiKey(id: string, at: Date): Promise<{ revoked: boolean }>;
  touchApiKey(id: string, at: Date): Promise<void>;

  // Reports of second-factor locks (throttle counters themselves are in AttemptCounters, below). Always in
  // the database, even with Redis counters: a report must commit with its audit event and webhook outbox row.
  /**
   * Claims the report of the lock of `key` made at `lockedAt` (epoch ms) with one conditional insert: of
   * concurrent claimers, in any process, exactly one gets `claimed: true`, and only once per lock. Call it
   * in the transaction that writes the report, so a report and its claim commit or vanish together.
   */
  claimLockReport(key: string, lockedAt: number, at: Date): Promise<{ claimed: boolean }>;
  /** Whether the lock of `key` made at `lockedAt` has been reported (a plain read, for the common case). */
  isLockReported(key: string, lockedAt: number): Promise<boolean>;

  // One-time emailed links (unlocking second factors, resetting a password). Only the SHA-256 of the token is stored.
  createActionToken(token: NewActionToken): Promise<void>;
  /**
   * Creates the token unless its user already has a live one of its purpose at `token.createdAt`: of
   * concurrent callers for one user and purpose, in any process, exactly one creates it (the user's row
   * lock serializes them). Returns whether it was created.
   */
  createActionTokenUnlessLive(token: NewActionToken): Promise<boolean>;
  /**
   * Spends a live token of `purpose` (unused, unexpired at `at`) with one conditional update: of concurrent
   * spenders exactly one gets the user id, the others undefined.
   */
  consumeActionToken(idHash: string, purpose: string, at: Date): Promise<{ userId: string } | undefined>;
  /** Whether the user has a live token of `purpose` (so a second email is not sent while one is valid). */
  hasLiveActionToken(userId: string, purpose: string, at: Date): Promise<boolean>;
  /** The owner of a live token of `purpose`, without spending it (a password is checked first). */
  findActionToken(idHash: string, purpose: string, at: Date): Promise<{ userId: string } | undefined>;
  /** Spends every live token of the user's for `purpose` (a newer link, or a changed password, kills the old ones). */
  revokeActionTokens(userId: string, purpose: string, at: Date): Promise<number>;

  // Remembered browsers: only the SHA-256 of each device cookie's token is stored.
  rememberDevice(device: NewRememberedDevice): Promise<void>;
  /** The unexpired device whose token hashes to `tokenHash`. */
  findRememberedDevice(tokenHash: string, at: Date): Promise<RememberedDeviceRecord | undefined>;
  touchRememberedDevice(id: string, at: Date): Promise<void>;
  /** The user's unexpired devices, newest first. */
  listRememberedDevices(userId: string, at: Date): Promise<RememberedDeviceRecord[]>;
  /** Forgets the user's device `id` (never another user's), or every one of them when `id` is null. */
  forgetRememberedDevices(userId: string, id: string | null): Promise<number>;

  // Security webhooks: endpoints, and the deliveries that are both the outbox and the delivery log.
  createWebhookEndpoint(endpoint: NewWebhookEndpoint): Promise<void>;
  listWebhookEndpoints(): Promise<WebhookEndpointRecord[]>;
  deleteWebhookEndpoint(id: string): Promise<boolean>;
  /**
   * One pending delivery per endpoint subscribed to the event's type; run it in the event's transaction.
   * `payload` is called (once) only when there is at least one such endpoint.
   */
  enqueueWebhookDeliveries(
    event: { type: string; payload: () => Promise<string>; at: Date },
    newId: () => string,
  ): Promise<number>;
  /** Claims due deliveries for one attempt each, hidden from other workers until `leaseUntil`. */
  claimDueWebhookDeliveries(at: Date, leaseUntil: Date, limit: number): Promise<WebhookDeliveryClaim[]>;
  /** Records an attempt's outcome while the delivery is pending; false when it no longer was. */
  recordWebhookAttempt(id: string, result: WebhookDeliveryResult): Promise<boolean>;
  /** One pending delivery to one endpoint, whatever it subscribes to (a test event); false when it is gone. */
  enqueueWebhookDeliveryTo(
    endpointId: string,
    delivery: { id: string; type: string; payload: string; at: Date },
  ): Promise<boolean>;
  /** The newest deliveries first, for the delivery log. */
  listWebhookDeliveries(limit: number): Promise<WebhookDeliveryRecord[]>;
  findWebhookDelivery(id: string): Promise<WebhookDeliveryRecord | undefined>;
  /**
   * Puts a finished (delivered or failed) delivery back in the queue, due at `at`, with the same id and a
   * fresh attempt count; false when there is no such delivery or it is still pending (one winner).
   */
  requeueWebhookDelivery(id: string, at: Date): Promise<boolean>;

  /** Deletes what can no longer be used (a batch at a time, each batch its own short write). */
  purgeExpired(rules: PurgeRules): Promise<PurgedRecords>;

  // Audit: an append-only log, sealed into one hash chain (decision 0005). Appending takes no lock shared
  // with other users' transactions; one sealer at a time links committed events into the chain.
  /** Inserts the event in the caller's transaction, not yet sealed (its chain fields are null). */
  appendAuditEvent(event: AuditEventInput): Promise<AuditEvent>;
  /** Newest first (by seq), sealed or not. */
  listAuditEvents(query: AuditQuery): Promise<AuditEvent[]>;
  /** Oldest first (by seq), after `afterSeq`, sealed or not: for streaming exports. */
  listAuditEventsAscending(query: AuditQuery & { afterSeq?: number }): Promise<AuditEvent[]>;
  /** Sealed events in chain order, after chain place `afterChainSeq`: for verifying the chain. */
  listSealedAuditEvents(query: { afterChainSeq?: number; limit: number }): Promise<SealedAuditEvent[]>;
  /** The chain place of the sealed event with this hash, if any (to name an event that was moved). */
  findAuditChainSeqByHash(hash: string): Promise<number | undefined>;
  getAuditChainHead(): Promise<AuditChainHead>;
  /** How many events are committed but not yet sealed, the oldest one's seq, and the newest seq. */
  getAuditSealingState(): Promise<AuditSealingState>;
  /**
   * One sealing round as `holder`: takes or renews the sealer lease (database time; fails while another
   * holder's lease runs) and, holding it, links up to `limit` committed unsealed events, by seq, into
   * the chain after its head, in one transaction with the head and the statistics' counters. A holder
   * whose lease was taken over writes nothing. `role: 'standby'` when another holder has the lease.
   */
  sealAuditEvents(input: { holder: string; leaseMs: number; limit: number }): Promise<AuditSealingRound>;
  /** Ends `holder`'s lease now (a graceful shutdown), so another instance takes over at once. */
  releaseAuditSealer(holder: string): Promise<void>;
  /**
   * Deletes the sealed events before `before` and anchors the chain at the first kept event (its chain
   * place and the hash it links to), so the rest stays verifiable. Returns how many went.
   */
  purgeAuditEventsBefore(before: Date): Promise<{ purged: number }>;
  /**
   * Events per action per UTC quarter hour: the counters the sealer keeps for sealed events plus the
   * events not yet sealed, read in one statement so an event being sealed is counted exactly once.
   * `from` and `to` (exclusive) are rounded down to quarter hours.
   */
  countAuditEventsByBucket(query: {
    actions: readonly string[];
    from: Date;
    to: Date;
  }): Promise<AuditBucketCount[]>;
}

export interface NewUser {
  id: string;
  /** Null only for a host application's user (one with an `externalId`). */
  email: string | null;
  /** The host application's id (1 to 255 characters), unique; absent for SpareKey's own accounts. */
  externalId?: string;
  passwordHash: string | null;
  roles: readonly string[];
  createdAt: Date;
}

export interface UserRecord {
  id: string;
  /** Null for a host application's user created without one: nothing is mailed to them. */
  email: string | null;
  /** Present for a host application's user: the host's own id. */
  externalId?: string;
  passwordHash: string | null;
  roles: string[];
  createdAt: Date;
}

/** What deleting a user removed with them (the counts go into the audit event). */
export interface DeletedUser {
  factors: number;
  recoveryCodeSets: number;
  sessions: number;
  rememberedDevices: number;
  apiKeys: number;
}

/** A second factor's kind: `webauthn` is a security key or passkey (stored in its own table). */
export type FactorKind = 'totp' | 'email' | 'webauthn';
/** The kinds kept in the factors table (a security key is created registered, with its public key). */
export type SecretFactorKind = 'totp' | 'email';

export interface NewFactor {
  id: string;
  userId: string;
  kind: SecretFactorKind;
  /** TOTP: the seed and its settings, encrypted (AES-256-GCM, see core/secret-box). Email: null. */
  secretCiphertext: string | null;
  createdAt: Date;
}

export interface SealedSecretRecord {
  factorId: string;
  secretCiphertext: string;
}

/** A row of the factors table (an authenticator app or email). */
export interface SecretFactorRecord extends NewFactor {
  confirmedAt: Date | null;
  lastUsedStep: number | null;
  lastUsedAt: Date | null;
}

/** Any factor, security keys included (`listFactors`). */
export interface FactorRecord extends Omit<SecretFactorRecord, 'kind'> {
  kind: FactorKind;
}

export type WebauthnDeviceType = 'singleDevice' | 'multiDevice';

export interface NewWebauthnCredential {
  id: string;
  userId: string;
  /** base64url, as the authenticator names it. */
  credentialId: string;
  /** base64url COSE public key. */
  publicKey: string;
  counter: number;
  transports: readonly string[];
  /** From the backup-eligible flag: `multiDevice` keys may be synced (a passkey in a password manager). */
  deviceType: WebauthnDeviceType;
  backedUp: boolean;
  name: string;
  createdAt: Date;
}

export interface WebauthnCredentialRecord extends NewWebauthnCredential {
  lastUsedAt: Date | null;
}

/** What a challenge was issued for: it is good for that ceremony only. */
export type WebauthnCeremony = 'registration' | 'second_factor' | 'step_up' | 'passkey';

export interface NewWebauthnChallenge {
  /** base64url, as it appears in the client data. */
  challenge: string;
  ceremony: WebauthnCeremony;
  /** SHA-256 of what the challenge is bound to (the session, or the ceremony id given to the caller). */
  bindingHash: string;
  /** The user it was issued for; null for passkey sign-in (nobody is known yet). */
  userId: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export interface NewRecoveryCodeSet {
  id: string;
  generatedAt: Date;
  /** One entry per code: the non-secret slot number (0-31) and the versioned digest. */
  codes: readonly { slot: number; digest: string }[];
}

export interface RecoveryCodeRecord {
  setId: string;
  slot: number;
  digest: string;
  usedAt: Date | null;
}

/**
 * What may go: rows expired at `at`; throttle counters that count nothing, or whose key starts with a
 * prefix below and has been idle that long (and is neither locked nor blocked); webhook deliveries that
 * finished (delivered or given up) more than `webhookLogRetentionMs` ago.
 */
export interface PurgeRules {
  at: Date;
  throttleForgetting: readonly { keyPrefix: string; idleMs: number }[];
  webhookLogRetentionMs: number;
  /**
   * Reports of second-factor locks that are over. With the counters in the database a report goes once no
   * counter holds its lock any more (unlocked, reset); with the counters elsewhere (Redis) the database
   * cannot tell, so a report goes only after `lockReportRetentionMs` (a lock still standing then is
   * reported once more, see lock-report.ts).
   */
  lockReports: { countersInDatabase: boolean; retentionMs: number };
}

export interface PurgedRecords {
  sessions: number;
  actionTokens: number;
  rememberedDevices: number;
  emailCodes: number;
  webauthnChallenges: number;
  throttleCounters: number;
  lockReports: number;
  webhookDeliveries: number;
  /** oidc-provider's expired objects (codes, sessions, grants, tokens). */
  oidcModels: number;
  /** Rotated-out signing keys past the expiry of every token they signed. */
  oidcSigningKeys: number;
}

/** A winning consume says what the set has left, so the caller needs no second read to tell the user. */
export type RecoveryCodeConsumption =
  | { consumed: false }
  | { consumed: true; remaining: number; total: number };

export interface RecoveryCodeSummary {
  setId: string;
  generatedAt: Date;
  total: number;
  remaining: number;
  lastUsedAt: Date | null;
}

export interface NewEmailOtpChallenge {
  id: string;
  userId: string;
  attemptId: string;
  digest: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface EmailOtpChallengeRecord extends NewEmailOtpChallenge {
  attempts: number;
  consumedAt: Date | null;
}

export type SessionStage = 'second_factor' | 'signed_in';

export interface NewSession {
  idHash: string;
  userId: string;
  stage: SessionStage;
  attemptId: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
  /**
   * How the session was signed in: `password`, then the second factor that completed it (`totp`, `email`,
   * `recovery_code`) or `remembered_device`. Absent or null when unknown (sessions from before it was kept).
   */
  signInMethod?: string | null;
}

export type SessionRecord = NewSession;

export interface NewApiKey {
  id: string;
  name: string;
  secretHash: string;
  scopes: readonly string[];
  createdAt: Date;
  createdBy: string | null;
}

export interface ApiKeyRecord extends NewApiKey {
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface UsersWithCodesQuery {
  emailPrefix?: string;
  after?: { email: string; id: string };
  limit: number;
}

export interface UserWithCodes {
  id: string;
  email: string;
  roles: string[];
  total: number;
  remaining: number;
  generatedAt: Date;
  lastUsedAt: Date | null;
}

export interface AuditChainHead {
  lastSeq: number;
  lastHash: string;
  anchorSeq: number;
  anchorHash: string;
}

export interface AuditSealingState {
  unsealed: number;
  oldestUnsealedSeq: number | null;
  newestSeq: number | null;
}

export interface AuditSealingRound {
  role: 'sealer' | 'standby';
  sealed: number;
  /** The newest sealed event's sealing lag (sealed at minus its time), ms; null when none was sealed. */
  lagMs: number | null;
}

export interface AuditBucketCount {
  bucketStart: Date;
  action: string;
  events: number;
}

export const AUDIT_BUCKET_MS = 15 * 60 * 1000;

export interface AuditQuery {
  userId?: string;
  action?: string;
  /** Inclusive lower bound. */
  since?: Date;
  /** Exclusive upper bound. */
  until?: Date;
  /** Only events with a smaller seq (keyset pagination). */
  beforeSeq?: number;
  limit: number;
}

/**
 * Failed-attempt counters, one per key (see core/throttle.ts). Each method decides and writes in one atomic
 * step under the key's lock, so counters shared by many processes cannot be raced. The database stores
 * implement it; so does the optional Redis implementation (src/store/redis/).
 */
export interface AttemptCounters {
  /** Charges one attempt before it is evaluated; refuses it (without a write) when blocked or locked. */
  chargeAttempt(key: string, policy: ThrottlePolicy, kind: AttemptKind, at: Date): Promise<ChargeVerdict>;
  /** A charged attempt succeeded: the key starts over, or gets back that one charge (core/throttle.ts). */
  settleAttempt(key: string, policy: ThrottlePolicy, mode: SettleMode, at: Date): Promise<void>;
  /** Forgets the key (an administrator's reset, an unlock). */
  clearAttempts(key: string): Promise<void>;
  findAttempts(key: string): Promise<ThrottleState | undefined>;
  /** Releases a connection of its own (Redis); the database stores close with the store. */
  close?(): Promise<void>;
}

export interface NewActionToken {
  idHash: string;
  purpose: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface NewRememberedDevice {
  id: string;
  tokenHash: string;
  userId: string;
  label: string;
  ip: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export interface RememberedDeviceRecord {
  id: string;
  userId: string;
  label: string;
  ip: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date;
}

export interface NewWebhookEndpoint {
  id: string;
  url: string;
  events: readonly string[];
  createdAt: Date;
  createdBy: string | null;
}

export interface WebhookEndpointRecord {
  id: string;
  url: string;
  events: string[];
  createdAt: Date;
  createdBy: string | null;
}

export interface WebhookDeliveryClaim {
  id: string;
  endpointId: string;
  url: string;
  eventType: string;
  payload: string;
  /** Including the attempt just claimed. */
  attempts: number;
  createdAt: Date;
}

export interface WebhookDeliveryResult {
  at: Date;
  outcome: 'delivered' | 'retry' | 'failed';
  statusCode: number | null;
  error: string | null;
  /** When to try again (outcome `retry`). */
  nextAttemptAt?: Date;
}

export interface WebhookDeliveryRecord {
  id: string;
  endpointId: string;
  url: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  createdAt: Date;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  nextAttemptAt: Date;
}
