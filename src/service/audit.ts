import type { AuditAction, AuditDetails, AuditEventInput, AuditOutcome } from '../core/audit.js';
import type { RequestContext } from './deps.js';

/** Builds an audit event from a use case's outcome and the request context. */
export function auditEvent(
  at: Date,
  action: AuditAction,
  outcome: AuditOutcome,
  userId: string | null,
  context: RequestContext,
  details: AuditDetails = {},
): AuditEventInput {
  return {
    at,
    action,
    outcome,
    userId,
    actorId: context.actorId ?? userId,
    ip: context.ip ?? null,
    // A user agent is attacker-controlled text: keep it bounded.
    userAgent: context.userAgent ? context.userAgent.slice(0, 512) : null,
    details,
  };
}
