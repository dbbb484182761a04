import type { FastifyError, FastifyInstance } from 'fastify';
import { sendApiError } from '../api-replies.js';
import { clientErrorCode } from '../error-status.js';

/**
 * The API's error and not-found handlers: every failure in the one error shape. A validation failure is a 400
 * with the validator's words; any other 4xx keeps its status and gets the catalog's code; anything else is a
 * 500 that says nothing about the cause (logged, never sent).
 */
export function registerApiErrorHandler(api: FastifyInstance): void {
  api.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) return sendApiError(reply, 'invalid_request', 400, `${error.message}.`);
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500)
      return sendApiError(reply, clientErrorCode(status, error.code), status);
    request.log.error(error);
    return reply
      .code(500)
      .send({ error: { code: 'internal_error', message: 'Something went wrong on our side.' } });
  });
  api.setNotFoundHandler((_request, reply) => sendApiError(reply, 'not_found'));
}
