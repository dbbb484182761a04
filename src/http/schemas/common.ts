import { type TSchema, Type } from 'typebox';
import { MAX_CODE_INPUT_LENGTH } from '../../core/code-input.js';
import { errorMessages } from '../../core/errors.js';
import type { TotpEnrollment as TotpEnrollmentValue } from '../../service/factors/enroll-totp.js';
import type { RecoveryCodeStatus as RecoveryCodeStatusValue } from '../../service/recovery-codes/recovery-code-status.js';

/** Shared request and response schemas: they validate input at the edge and document /openapi.json. */

/** The code of an answer that failed on our side (500): the only one not in the catalog, which lists expected failures. */
export const INTERNAL_ERROR = 'internal_error';
/** What a 500 says: nothing of the cause, which goes to the log. */
export const INTERNAL_ERROR_MESSAGE = 'Something went wrong on our side.';

/**
 * Every error code the API can answer with: the whole catalog (src/core/errors.ts), read from the code so a
 * new failure is documented the day it is added, and the 500's. Some codes belong to the pages only; a
 * client meets a few on each operation, but never one outside this list.
 */
export const apiErrorCodes: readonly string[] = [...Object.keys(errorMessages), INTERNAL_ERROR];

/** The one error body, `components/schemas/Error` in /openapi.json. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({
          enum: [...apiErrorCodes],
          description: 'Stable machine-readable code, e.g. code_already_used',
        }),
        message: Type.String({ description: 'What went wrong, in words a person understands' }),
      },
      { additionalProperties: false },
    ),
  },
  { $id: 'Error', additionalProperties: false, description: 'The one shape of every error answer' },
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

/**
 * A code as typed. Out of its bounds (empty, missing, over-long) a route answers the code the library does
 * for the same input (`codeFieldErrors`), not the generic invalid_request.
 */
export const CodeInput = Type.String({ minLength: 1, maxLength: MAX_CODE_INPUT_LENGTH });

export const CodeBody = Type.Object({ code: CodeInput });

/** `config.fieldErrors` of a route whose body has a `code`: an authenticator or emailed code, or a recovery code. */
export const codeFieldErrors = {
  otp: { code: 'invalid_code' },
  recoveryCode: { code: 'malformed_code' },
} as const;

/** A started authenticator: the key to type and the otpauth URI for the QR code. */
export const TotpEnrollment = Type.Object({
  factorId: Type.String(),
  secret: Type.String(),
  uri: Type.String(),
});

export const EmailFactorStarted = Type.Object({ factorId: Type.String() });

/**
 * A success answer's schema with what the answer means, the response's description in /openapi.json (without
 * one the document would say "Default Response"). The schema itself is unchanged.
 */
export function answer<Schema extends TSchema>(description: string, schema: Schema): Schema {
  return { ...schema, description } as Schema;
}

/** What each error status means, as its response's description in /openapi.json. */
const errorDescriptions: Record<number, string> = {
  400: 'The request is malformed or breaks the schema (`invalid_request`, `bad_request`, `json_too_deep`), or a value is not acceptable',
  401: 'No usable API key or session token (`api_key_required`, `not_signed_in`), or a wrong code or password',
  403: 'The API key lacks the scope (`api_scope_missing`), or the site does not allow this',
  404: 'The user, factor or other resource named in the path was not found',
  409: 'The current state does not allow it (e.g. `code_already_used`, `totp_replayed`, `totp_already_added`)',
  410: 'The code has expired (`email_code_expired`): ask for a new one',
  413: 'The body is larger than 64 KB (`payload_too_large`)',
  415: 'The body is not JSON (`unsupported_media_type`): send `Content-Type: application/json`',
  422: 'The settings are not valid together (`invalid_settings`); the message lists every problem',
  423: "The user's second factors are locked (`mfa_locked`) until the unlock link emailed to them is used",
  429: 'Too many attempts: `too_many_attempts` says when to try again in `Retry-After`; `email_code_attempts_exhausted` needs a new email code instead',
  503: "The user's authenticator cannot be checked right now (`factor_unreadable`)",
};

/** `Retry-After` of a throttled answer (src/http/retry-after.ts). */
const retryAfterHeader = {
  'Retry-After': {
    type: 'integer',
    minimum: 1,
    description: 'Seconds to wait before the next attempt (sent with `too_many_attempts`)',
  },
};

/** One error status's response: the named Error schema, what the status means and, for 429, `Retry-After`. */
export function errorResponse(status: number) {
  const description = errorDescriptions[status];
  if (description === undefined) throw new Error(`no description for error status ${status}`);
  return { $ref: 'Error#', description, ...(status === 429 ? { headers: retryAfterHeader } : {}) };
}

/** Error responses, documented on every route with the statuses it can answer. */
export function errors(...statuses: number[]) {
  const all = [...new Set([400, 401, 403, ...statuses])].sort((a, b) => a - b);
  return Object.fromEntries(all.map((status) => [status, errorResponse(status)]));
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
