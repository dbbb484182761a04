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

/** A stored event: its place in the chain and the hash that links it to the one before. */
export interface AuditEvent extends AuditEventInput {
  seq: number;
  prevHash: string;
  hash: string;
}

/** The hash before the first event of a chain. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/**
 * SHA-256 over the previous hash and a canonical serialization of the event, so altering, inserting or
 * deleting a stored row breaks every later link (ASVS 5.0 16.4.2, tamper-evident logs).
 */
export function hashAuditEvent(prevHash: string, seq: number, event: AuditEventInput): string {
  const canonical = JSON.stringify([
    seq,
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
  ]);
  return createHash('sha256').update(prevHash).update('\n').update(canonical).digest('hex');
}
