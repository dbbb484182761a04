import { Type } from 'typebox';
import type { TotpEnrollment as TotpEnrollmentValue } from '../../service/factors/enroll-totp.js';
import type { RecoveryCodeStatus as RecoveryCodeStatusValue } from '../../service/recovery-codes/recovery-code-status.js';

/** Shared request and response schemas: they validate input at the edge and document /openapi.json. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, e.g. code_already_used' }),
      message: Type.String({ description: 'What went wrong, in words a person understands' }),
    }),
  },
  { $id: 'Error' },
);

export const UserIdParams = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 64 }) });

export const IssuedCodes = Type.Object({
  setId: Type.String(),
  generatedAt: Type.String({ format: 'date-time' }),
  codes: Type.Array(Type.String(), { description: 'Shown once: store them nowhere but with the user' }),
});

export const RecoveryCodeStatus = Type.Object({
  enabled: Type.Boolean(),
  hasCodes: Type.Boolean(),
  setId: Type.Optional(
    Type.String({ description: 'The current set (changes when the codes are regenerated)' }),
  ),
  total: Type.Optional(Type.Integer()),
  remaining: Type.Optional(Type.Integer()),
  low: Type.Optional(Type.Boolean()),
  generatedAt: Type.Optional(Type.String({ format: 'date-time' })),
  lastUsedAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
});

export const CodeBody = Type.Object({ code: Type.String({ minLength: 1, maxLength: 256 }) });

/** A started authenticator: the key to type and the otpauth URI for the QR code. */
export const TotpEnrollment = Type.Object({
  factorId: Type.String(),
  secret: Type.String(),
  uri: Type.String(),
});

export const EmailFactorStarted = Type.Object({ factorId: Type.String() });

/** Error responses, documented on every route with the statuses it can answer. */
export function errors(...statuses: number[]) {
  const all = [...new Set([400, 401, 403, ...statuses])];
  return Object.fromEntries(all.map((status) => [status, { $ref: 'Error#' }]));
}

/** An issued set as JSON (the codes appear in this one response only). */
export function issuedCodesBody(set: { setId: string; generatedAt: Date; codes: string[] }) {
  return { setId: set.setId, generatedAt: set.generatedAt.toISOString(), codes: set.codes };
}

/** A recovery-code status as JSON: dates as ISO strings. */
export function recoveryCodeStatusBody(status: RecoveryCodeStatusValue) {
  return status.hasCodes
    ? {
        ...status,
        generatedAt: status.generatedAt.toISOString(),
        lastUsedAt: status.lastUsedAt?.toISOString() ?? null,
      }
    : status;
}

/** A started authenticator enrollment as JSON: the key to type and the URI for the QR code. */
export function totpEnrollmentBody(enrollment: TotpEnrollmentValue) {
  return { factorId: enrollment.factorId, secret: enrollment.secret, uri: enrollment.uri };
}
