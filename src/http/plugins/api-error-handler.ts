import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import { sendApiError } from '../api-replies.js';
import { clientErrorCode } from '../error-status.js';
import { INTERNAL_ERROR } from '../schemas/common.js';

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
    return reply
      .code(500)
      .send({ error: { code: INTERNAL_ERROR, message: 'Something went wrong on our side.' } });
  });
  api.setNotFoundHandler((_request, reply) => sendApiError(reply, 'not_found'));
}

/** Schema checks that say a value is missing or out of its length bounds, rather than of the wrong type. */
const VALUE_KEYWORDS = new Set(['required', 'minLength', 'maxLength']);

/**
 * The domain code a route declared (`config.fieldErrors`) for the body field the failed check is about, so
 * an empty reason is `reason_required` here as in the library and the CLI; undefined for any other failure
 * (an unknown field, a wrong type), which stays invalid_request.
 */
function fieldErrorCode(request: FastifyRequest, error: FastifyError): ErrorCode | undefined {
  const fieldErrors = request.routeOptions.config.fieldErrors;
  const [first] = error.validation ?? [];
  if (!fieldErrors || error.validationContext !== 'body' || !first || !VALUE_KEYWORDS.has(first.keyword))
    return undefined;
  const field =
    first.keyword === 'required'
      ? String((first.params as { missingProperty?: unknown }).missingProperty ?? '')
      : first.instancePath.slice(1);
  return fieldErrors[field];
}
