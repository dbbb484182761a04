import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, errorMessage } from '../core/errors.js';
import { sendApiError } from '../http/api-replies.js';
import { clientErrorCode, errorStatus } from '../http/error-status.js';
import { API_PREFIX } from '../http/plugins/register-api.js';
import type { UseCases } from '../service/use-cases.js';
import { sendMessagePage } from './web-context.js';

/**
 * Answers Fastify makes before any route or hook runs take the one error path too: the documented
 * error shape (JSON under /api/v1, a page elsewhere) and the security headers, which helmet's onRequest
 * hook never got to set (issue 18, point 6: `GET /admin/users/%c0%af` answered with Fastify's own body
 * and no headers).
 */
const isApiPath = (url: string) => url === API_PREFIX || url.startsWith(`${API_PREFIX}/`);

/** `frameworkErrors` for Fastify(): a URL it cannot decode (400) or a path parameter over the limit (414). */
export function frameworkErrorHandler(useCases: UseCases, headers: readonly [string, string][]) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    for (const [name, value] of headers) reply.header(name, value);
    const status = error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 400;
    const code = clientErrorCode(status, error.code);
    request.log.info({ code: error.code }, 'refused before routing');
    if (isApiPath(request.url)) return sendApiError(reply, code, status);
    return sendMessagePage(request, reply, useCases, { code, status });
  };
}

/** What the HTTP parser refused, by Node's error code. */
function parserRefusal(nodeCode: string | undefined): ErrorCode {
  if (nodeCode === 'ERR_HTTP_REQUEST_TIMEOUT') return 'request_timeout';
  if (nodeCode === 'HPE_HEADER_OVERFLOW') return 'headers_too_large';
  return 'bad_request';
}

/**
 * `clientErrorHandler` for Fastify(): a request the HTTP parser refused (a bad Content-Length, a broken
 * request line, headers over the limit) never becomes a request, so there is no route, reply or page:
 * the answer is written to the socket by hand, as JSON in the error shape with the security headers.
 */
export function clientErrorHandler(headers: readonly [string, string][]) {
  return (error: Error & { code?: string }, socket: Socket) => {
    // A reset connection has nobody left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
    const code = parserRefusal(error.code);
    const status = errorStatus(code);
    const body = JSON.stringify({ error: { code, message: errorMessage(code) } });
    const lines = [
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
      'content-type: application/json; charset=utf-8',
      `content-length: ${Buffer.byteLength(body)}`,
      'cache-control: no-store',
      'connection: close',
      ...headers.map(([name, value]) => `${name}: ${value}`),
    ];
    socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
  };
}
