import { createHash } from 'node:crypto';

/** Every authentication decision SpareKey audits (STANDARDS req. 56; ASVS 4.0.3 7.1.3 / 7.2.1). */
export const auditActions = [
  'recovery_codes_generated',
  'recovery_codes_regenerated',
  'recovery_code_used',
  'recovery_code_failed',
  'recovery_codes_deleted',
  'totp_enrollment_started',
  'totp_verified',
  'totp_failed',
  'totp_replay',
  'webauthn_verified',
  'webauthn_failed',
  'webauthn_counter_regressed',
  'webauthn_registration_failed',
  'security_key_renamed',
  'email_otp_sent',
  'email_otp_verified',
  'email_otp_failed',
  'factor_added',
  'factor_removed',
  'mfa_enabled',
  'mfa_disabled',
  'mfa_reset',
  'settings_changed',
  'sign_in',
  'sign_in_failed',
  'password_verified',
  'sign_out',
  'user_created',
  'email_changed',
  'user_deleted',
  'rate_limited',
  'step_up',
  'step_up_failed',
  'notification_failed',
  'roles_changed',
  'role_added',
  'audit_purged',
  'api_key_created',
  'api_key_revoked',
  'api_key_refused',
  'api_key_scope_refused',
  'api_key_used',
  'mfa_locked',
  'mfa_unlocked',
  'mfa_unlock_link_sent',
  'sealing_key_rotated',
  'password_reset_requested',
  'password_reset',
  'password_changed',
  'password_change_failed',
  'device_remembered',
  'devices_forgotten',
  'webhook_endpoint_added',
  'webhook_endpoint_removed',
  'webhook_test_event_sent',
  'webhook_delivery_redelivered',
  'forward_auth_denied',
  'forward_auth_sign_in',
  'access_rules_changed',
  'oidc_sign_in',
  'oidc_client_registered',
  'oidc_client_changed',
  'oidc_client_secret_rotated',
  'oidc_client_disabled',
  'oidc_client_enabled',
  'oidc_client_deleted',
  'oidc_keys_rotated',
] as const;

export type AuditAction = (typeof auditActions)[number];
export type AuditOutcome = 'success' | 'failure';
export type AuditDetails = Readonly<Record<string, string | number | boolean | null>>;

/** What a use case records. Never a code, OTP, seed, password or otpauth URI (ASVS 4.0.3 7.1.1). */
export interface AuditEventInput {
  at: Date;
  action: AuditAction;
  outcome: AuditOutcome;
  userId: string | null;
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: AuditDetails;
}

/**
 * A stored event. `seq` is its number, given when its transaction inserts it (no lock: a sequence), and
 * the order the log is listed in. The sealer later links committed events into the hash chain one at a
 * time: `chainSeq` is the event's place in the chain and `hash` links it to `prevHash`, the hash of the
 * event before it; all three are null until then (committed, not yet sealed).
 */
export interface AuditEvent extends AuditEventInput {
  seq: number;
  chainSeq: number | null;
  prevHash: string | null;
  hash: string | null;
}

/** An event the sealer has linked into the chain. */
export interface SealedAuditEvent extends AuditEvent {
  chainSeq: number;
  prevHash: string;
  hash: string;
}

export const isSealed = (event: AuditEvent): event is SealedAuditEvent => event.chainSeq !== null;

/** The longest text an id, address or user agent column keeps (a user agent is attacker-controlled text). */
export const AUDIT_TEXT_MAX_LENGTH = 512;

const auditActionSet: ReadonlySet<string> = new Set(auditActions);

/** A lone high surrogate or a lone low surrogate. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text exactly as both engines store and return it: lone surrogates become U+FFFD (what UTF-8 encoding
 * does on the way in), NUL becomes U+FFFD (PostgreSQL text cannot hold it), and the length is bounded.
 * Truncating first and repairing after, so a cut through a surrogate pair is repaired too.
 */
function storableText(text: string, maxLength: number): string {
  return text
    .slice(0, maxLength)
    .replace(LONE_SURROGATE, '\uFFFD')
    .replaceAll(String.fromCharCode(0), '\uFFFD');
}

/** JSON with object keys sorted, so equal values always serialize to the same text. */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

/** Any value as text: its sorted JSON, or String() for what JSON cannot hold (bigint, a function). */
function jsonText(value: unknown): string {
  if (typeof value === 'bigint') return String(value);
  return sortedJson(value) ?? String(value);
}

/**
 * An id, address or user agent by the event schema: a string or null, always. Any other value a caller
 * passes (a number from a JSON body, an object) becomes its JSON text, so `0` is stored and hashed as "0"
 * on both engines, never as a number that one engine writes back as "0.0".
 */
function canonicalText(value: unknown, maxLength = AUDIT_TEXT_MAX_LENGTH): string | null {
  if (value === null || value === undefined) return null;
  const text = typeof value === 'string' ? value : jsonText(value);
  return storableText(text, maxLength);
}

/** A details value by the schema: a string, a finite number, a boolean or null; anything else its JSON text. */
function canonicalDetail(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value;
  // JSON has no NaN, Infinity or -0: what the stored text gives back is what is hashed.
  if (typeof value === 'number') return Number.isFinite(value) ? (Object.is(value, -0) ? 0 : value) : null;
  if (typeof value === 'string') return value;
  return jsonText(value);
}

function canonicalDetails(details: unknown): AuditDetails {
  if (details === null || details === undefined) return {};
  if (typeof details !== 'object' || Array.isArray(details)) return { value: canonicalDetail(details) };
  // fromEntries defines own properties, so a "__proto__" key stays a key and never becomes a prototype.
  return Object.fromEntries(Object.entries(details).map(([key, value]) => [key, canonicalDetail(value)]));
}

/**
 * The event as the event schema types it, applied before hashing AND storing: whatever a caller passes,
 * the stored row reads back as exactly this value, so it re-hashes to the stored hash on both engines.
 * The action, outcome and time are the code's own, never input: a value outside the schema there is a
 * programming error and throws before anything is written.
 */
export function canonicalAuditEvent(event: AuditEventInput): AuditEventInput {
  const input = event as unknown as Record<string, unknown>;
  const at = input.at;
  if (!(at instanceof Date) || !Number.isFinite(at.getTime()))
    throw new TypeError('audit event time must be a valid Date');
  if (typeof input.action !== 'string' || !auditActionSet.has(input.action))
    throw new TypeError('audit event action is not one of auditActions');
  if (input.outcome !== 'success' && input.outcome !== 'failure')
    throw new TypeError("audit event outcome must be 'success' or 'failure'");
  return {
    at: new Date(at.getTime()),
    action: input.action as AuditAction,
    outcome: input.outcome,
    userId: canonicalText(input.userId),
    actorId: canonicalText(input.actorId),
    ip: canonicalText(input.ip),
    userAgent: canonicalText(input.userAgent),
    details: canonicalDetails(input.details),
  };
}

/** The hash before the first event of a chain. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/**
 * SHA-256 over the previous hash and a canonical serialization of the event at its place in the chain, so
 * altering, inserting, deleting or moving a stored row breaks every later link (ASVS 5.0 16.4.2,
 * tamper-evident logs). The event's own number `seq` is covered too whenever it differs from its chain
 * place: events sealed before sealing was separate from inserting have `seq` = `chainSeq` and keep the
 * hash they were given, and any edit of `seq` still changes what is hashed (adding it, or changing it).
 */
export function hashAuditEvent(
  prevHash: string,
  chainSeq: number,
  event: AuditEventInput & { seq?: number },
): string {
  const fields: unknown[] = [
    chainSeq,
    event.at.getTime(),
    event.action,
    event.outcome,
    event.userId,
    event.actorId,
    event.ip,
    event.userAgent,
    Object.keys(event.details)
      .sort()
      .map((key) => [key, event.details[key]]),
  ];
  if (event.seq !== undefined && event.seq !== chainSeq) fields.push(event.seq);
  return createHash('sha256').update(prevHash).update('\n').update(JSON.stringify(fields)).digest('hex');
}
