import type { Generated } from 'kysely';

/**
 * The tables as Kysely sees them, shared by both engines. Times are integer milliseconds since the
 * epoch (`bigint` columns): both engines hand them back as JS numbers (PostgreSQL through the pool's
 * int8 parser, see ../postgres/open-postgres.ts), so no row mapper guesses about types.
 */
export interface Database {
  users: UsersTable;
  user_roles: UserRolesTable;
  mfa_factors: MfaFactorsTable;
  recovery_code_sets: RecoveryCodeSetsTable;
  recovery_codes: RecoveryCodesTable;
  email_otp_challenges: EmailOtpChallengesTable;
  settings: SettingsTable;
  audit_events: AuditEventsTable;
  audit_chain_head: AuditChainHeadTable;
  audit_sealer: AuditSealerTable;
  sessions: SessionsTable;
  roles: RolesTable;
  recovery_code_set_counts: RecoveryCodeSetCountsTable;
  audit_counts: AuditCountsTable;
  api_keys: ApiKeysTable;
  throttle_counters: ThrottleCountersTable;
  throttle_lock_reports: ThrottleLockReportsTable;
  action_tokens: ActionTokensTable;
  remembered_devices: RememberedDevicesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  oidc_models: OidcModelsTable;
  oidc_clients: OidcClientsTable;
  oidc_signing_keys: OidcSigningKeysTable;
  oidc_sign_in_counts: OidcSignInCountsTable;
  webauthn_credentials: WebauthnCredentialsTable;
  webauthn_challenges: WebauthnChallengesTable;
}

export interface UsersTable {
  id: string;
  email: string;
  /** Lowercased `email`; UNIQUE, so two accounts can never differ only in case. */
  email_normalized: string;
  password_hash: string | null;
  created_at: number;
  /** The host application's id for the user; NULL for SpareKey's own accounts (migration 0011). */
  external_id: string | null;
  /** Bumped by every replacement or deletion of the recovery-code set; its UPDATE is the user's lock. */
  code_set_version: Generated<number>;
}

export interface UserRolesTable {
  user_id: string;
  role: string;
}

export interface MfaFactorsTable {
  id: string;
  user_id: string;
  kind: string;
  secret_ciphertext: string | null;
  created_at: number;
  confirmed_at: number | null;
  last_used_step: number | null;
  last_used_at: number | null;
}

export interface RecoveryCodeSetsTable {
  id: string;
  /** UNIQUE: at most one live set per user, enforced by the schema. */
  user_id: string;
  generated_at: number;
  total: number;
  /** Maintained counter, decremented in the same transaction as each consume. */
  remaining: number;
  last_used_at: number | null;
  /** The recovery_code_set_counts shard this set is counted in (its owner's, or 0 for older sets). */
  count_shard: Generated<number>;
}

export interface RecoveryCodesTable {
  set_id: string;
  slot: number;
  digest: string;
  used_at: number | null;
}

export interface EmailOtpChallengesTable {
  id: string;
  user_id: string;
  attempt_id: string;
  digest: string;
  created_at: number;
  expires_at: number;
  attempts: Generated<number>;
  consumed_at: number | null;
}

export interface SettingsTable {
  key: string;
  /** JSON text. */
  value: string;
  updated_at: number;
}

export interface AuditEventsTable {
  /** Given at insert by the database (identity / AUTOINCREMENT): no lock is held for it. */
  seq: Generated<number>;
  at: number;
  action: string;
  outcome: string;
  user_id: string | null;
  actor_id: string | null;
  ip: string | null;
  user_agent: string | null;
  /** JSON text. */
  details: string;
  /** The event's place in the hash chain, and the link; null until the sealer links it. */
  chain_seq: number | null;
  prev_hash: string | null;
  hash: string | null;
  /** When it was sealed (database time, ms). */
  sealed_at: number | null;
}

/** The one lease row: which instance seals, until when (database time, ms). */
export interface AuditSealerTable {
  id: number;
  holder: string;
  expires_at: number;
}

export interface AuditChainHeadTable {
  /** Always 1: a single row; its lock serializes the sealing transactions. */
  id: number;
  last_seq: number;
  last_hash: string;
  /** After a retention purge: the first kept event's seq and the hash it links to (0 and genesis before). */
  anchor_seq: Generated<number>;
  anchor_hash: Generated<string>;
}

export interface SessionsTable {
  /** SHA-256 (hex) of the cookie's token. */
  id_hash: string;
  user_id: string;
  stage: string;
  attempt_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
  sign_in_method: string | null;
}

export interface RolesTable {
  name: string;
  created_at: number;
}

export interface RecoveryCodeSetCountsTable {
  /** A `remaining` value, 0..32. */
  remaining: number;
  /** Which of the COUNTER_SHARDS rows of that value (counter-shards.ts): the statistics are their sum. */
  shard: number;
  /** How many sets counted in this shard have it now (never below zero). */
  sets: number;
}

export interface AuditCountsTable {
  /** Start of a UTC quarter hour, epoch ms. */
  bucket_start: number;
  action: string;
  events: number;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  secret_hash: string;
  /** Space-separated. */
  scopes: string;
  created_at: number;
  created_by: string | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface ThrottleCountersTable {
  key: string;
  failures: number;
  blocked_until: number | null;
  locked_at: number | null;
  updated_at: number;
}

export interface ThrottleLockReportsTable {
  key: string;
  locked_at: number;
  reported_at: number;
}

export interface ActionTokensTable {
  id_hash: string;
  purpose: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface RememberedDevicesTable {
  id: string;
  /** SHA-256 of the cookie's token: the token itself is never stored. */
  token_hash: string;
  user_id: string;
  /** The browser as its user agent named it, for the list in Settings. */
  label: string;
  ip: string | null;
  created_at: number;
  last_used_at: number | null;
  expires_at: number;
}

export interface WebhookEndpointsTable {
  id: string;
  url: string;
  /** Subscribed event types, space-separated. */
  events: string;
  created_at: number;
  created_by: string | null;
}

export interface WebhookDeliveriesTable {
  /** The delivery id a receiver deduplicates on: the same for every retry of one delivery. */
  id: string;
  endpoint_id: string;
  event_type: string;
  payload: string;
  status: string;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  last_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: number | null;
}

export interface OidcModelsTable {
  /** oidc-provider's model name: AuthorizationCode, Session, Grant, RefreshToken, ... */
  model: string;
  id: string;
  /** The object as JSON. */
  payload: string;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  expires_at: number | null;
  consumed_at: number | null;
}

export interface OidcClientsTable {
  id: string;
  name: string;
  /** JSON arrays of exact URIs. */
  redirect_uris: string;
  post_logout_redirect_uris: string;
  kind: string;
  first_party: number;
  two_factor_required: number;
  /** Space-separated. */
  scopes: string;
  secret_hash: string | null;
  created_at: number;
  updated_at: number;
  disabled_at: number | null;
}

/** Sign-ins per application per UTC quarter hour (migration 0014), sharded by user (0016). */
export interface OidcSignInCountsTable {
  client_id: string;
  bucket_start: number;
  /** Which of the COUNTER_SHARDS rows of that application and quarter hour: the statistics are their sum. */
  shard: number;
  events: number;
}

export interface OidcSigningKeysTable {
  kid: string;
  sealed_jwk: string;
  created_at: number;
  expires_at: number | null;
}

export interface WebauthnCredentialsTable {
  id: string;
  user_id: string;
  /** base64url; UNIQUE across users. */
  credential_id: string;
  /** base64url COSE public key (not a secret). */
  public_key: string;
  counter: number;
  /** JSON array of transport hints. */
  transports: string;
  device_type: string;
  /** 0 or 1 (the backup-state flag at registration or the last use). */
  backed_up: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

export interface WebauthnChallengesTable {
  challenge: string;
  ceremony: string;
  binding_hash: string;
  user_id: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}
