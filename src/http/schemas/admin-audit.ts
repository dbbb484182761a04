import { Type } from 'typebox';
import { auditActions } from '../../core/audit.js';

/** The JSON queries and answers of the audit-log routes (routes/admin-audit.ts). */

export const AuditEvent = Type.Object({
  seq: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  action: Type.String(),
  outcome: Type.String(),
  userId: Type.Union([Type.String(), Type.Null()]),
  actorId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  /** False while the event is committed but not yet linked into the hash chain by the sealer. */
  sealed: Type.Boolean(),
  chainSeq: Type.Union([Type.Integer(), Type.Null()]),
  prevHash: Type.Union([Type.String(), Type.Null()]),
  hash: Type.Union([Type.String(), Type.Null()]),
});

/** A page of the log, newest first. */
export const AuditEventPage = Type.Object({ events: Type.Array(AuditEvent) });

export const AuditFilter = Type.Object({
  userId: Type.Optional(Type.String({ maxLength: 64 })),
  action: Type.Optional(Type.String({ enum: [...auditActions] })),
  since: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
  until: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
});

export const AuditEventsQuery = Type.Object({
  ...AuditFilter.properties,
  beforeSeq: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

export const AuditExportQuery = Type.Object({
  ...AuditFilter.properties,
  format: Type.Union([Type.Literal('csv'), Type.Literal('jsonl')]),
});

/**
 * The export's answer, by its media type (the `format` query picks one): never JSON, so a generated client
 * reads it as text. Each JSON line has the fields of an audit event.
 */
export const AuditExport = {
  description: 'Every matching event, oldest first, streamed in the format asked for',
  content: {
    'text/csv': {
      schema: { type: 'string', description: 'CSV (RFC 4180) with a header row; `format=csv`' },
    },
    'application/jsonl': {
      schema: { type: 'string', description: 'JSON Lines: one audit event object per line; `format=jsonl`' },
    },
  },
};

export const AuditVerification = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer(),
  /** Events committed but not yet sealed when the walk ended (not part of it). */
  unsealed: Type.Integer(),
  firstBreak: Type.Optional(
    Type.Object({
      problem: Type.String(),
      chainSeq: Type.Integer(),
      seq: Type.Optional(Type.Integer()),
      after: Type.Optional(Type.Integer()),
      movedFrom: Type.Optional(Type.Integer()),
      message: Type.String(),
    }),
  ),
});
