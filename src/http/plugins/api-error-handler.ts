import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import { sendApiError } from '../api-replies.js';
import { clientErrorCode } from '../error-status.js';
import { INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE } from '../schemas/common.js';

/**
 * The API's error and not-found handlers: every failure in the one error shape. A validation failure is a 400
 * with the validator's words; any other 4xx keeps its status and gets the catalog's code; anything else is a
 * 500 that says nothing about the cause (logged, never sent).
 */
export function registerApiErrorHandler(api: FastifyInstance): void {
  api.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const code = fieldErrorCode(request, error);
      return code
        ? sendApiError(reply, code)
        : sendApiError(reply, 'invalid_request', 400, `${error.message}.`);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500)
      return sendApiError(reply, clientErrorCode(status, error.code), status);
    request.log.error(error);
    return reply.code(500).send({ error: { code: INTERNAL_ERROR, message: INTERNAL_ERROR_MESSAGE } });
  });
  api.setNotFoundHandler((_request, reply) => sendApiError(reply, 'not_found'));
}

/** Schema checks that say a value is missing or out of its length bounds, rather than of the wrong type. */
const VALUE_KEYWORDS = new Set(['required', 'minLength', 'maxLength']);

/**
 * Path parameters that mean the same on every route that has them. A host id out of its bounds (empty,
 * over 255 characters, a control character) is `invalid_external_id`, as the library's `users.ensure` and
 * every library method taking `{ externalId }` answer; a SpareKey id out of its bounds names nobody, so it is
 * `user_not_found`, as the library answers for `{ userId }`. A path value is always a string, so any failed
 * check of it is about its value.
 */
const PATH_FIELD_ERRORS: Partial<Record<string, ErrorCode>> = {
  externalId: 'invalid_external_id',
  userId: 'user_not_found',
};

/**
 * The domain code for the field a failed check is about, so the API answers what the library and the CLI
 * answer for the same value: a body field the route declared (`config.fieldErrors`: an empty reason is
 * `reason_required`, an empty code `invalid_code`), or a path parameter of PATH_FIELD_ERRORS. Undefined for
 * any other failure (an unknown field, a wrong type), which stays invalid_request.
 */
function fieldErrorCode(request: FastifyRequest, error: FastifyError): ErrorCode | undefined {
  const [first] = error.validation ?? [];
  if (!first) return undefined;
  if (error.validationContext === 'params') return PATH_FIELD_ERRORS[first.instancePath.slice(1)];
  const fieldErrors = request.routeOptions.config.fieldErrors;
  if (!fieldErrors || error.validationContext !== 'body' || !VALUE_KEYWORDS.has(first.keyword))
    return undefined;
  // A body with a field the schema does not name is of the wrong shape, whatever else is wrong with it
  // (the validator stops at its first finding, which may be the missing field).
  if (hasUnknownField(request)) return undefined;
  const field =
    first.keyword === 'required'
      ? String((first.params as { missingProperty?: unknown }).missingProperty ?? '')
      : first.instancePath.slice(1);
  return fieldErrors[field];
}

/** True when the body is an object with a key its route's body schema does not declare. */
function hasUnknownField(request: FastifyRequest): boolean {
  const body = request.body;
  if (body === null || typeof body !== 'object') return false;
  const schema = request.routeOptions.schema?.body as { properties?: Record<string, unknown> } | undefined;
  const declared = schema?.properties ?? {};
  return Object.keys(body).some((key) => !Object.hasOwn(declared, key));
}
