import {
  type AuditAction,
  type AuditDetails,
  type AuditEventInput,
  type AuditOutcome,
  canonicalAuditEvent,
} from '../../core/audit.js';
import type { RequestContext } from '../deps.js';

/**
 * Builds an audit event from a use case's outcome and the request context, in its canonical form: the ids
 * a caller hands over are typed by the event schema here (a number that slipped through an edge becomes
 * its text), so the event a use case sees is the one stored and hashed.
 */
export function auditEvent(
  at: Date,
  action: AuditAction,
  outcome: AuditOutcome,
  userId: string | null,
  context: RequestContext,
  details: AuditDetails = {},
): AuditEventInput {
  return canonicalAuditEvent({
    at,
    action,
    outcome,
    userId,
    actorId: context.actorId ?? userId,
    ip: context.ip ?? null,
    // A user agent is attacker-controlled text: the canonical form bounds it (AUDIT_TEXT_MAX_LENGTH).
    userAgent: context.userAgent ? context.userAgent : null,
    details,
  });
}
