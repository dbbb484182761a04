import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, errorMessage } from '../core/errors.js';
import type { RequestContext } from '../service/deps.js';
import { errorStatus } from './error-status.js';
import { noteRetryAfter } from './retry-after.js';

/*
 * What every JSON route answers with and reads from its caller: the one error shape, a failed use case as a
 * reply, the audit context of the call and the bearer session token. The caller itself is established by
 * plugins/api-key-auth.ts (request.apiKey, request.apiSession) before a handler runs.
 */

/** The one error shape of the API: `{ "error": { "code", "message" } }`, with the catalog's status. */
export function sendApiError(
  reply: FastifyReply,
  code: ErrorCode,
  status = errorStatus(code),
  message = errorMessage(code),
) {
  return reply.code(status).header('cache-control', 'no-store').send({ error: { code, message } });
}

/** A failed use case's result as an error response, with `Retry-After` when it was throttled. */
export function sendApiFailure(
  reply: FastifyReply,
  failure: { error: ErrorCode; retryAfterSeconds?: number },
) {
  noteRetryAfter(reply, failure);
  return sendApiError(reply, failure.error);
}

/** Audit context of an API call: the key is the actor (`apikey:<id>`). */
export function apiContext(request: FastifyRequest): RequestContext & { actorId: string } {
  const userAgent = request.headers['user-agent'];
  return {
    ip: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent : null,
    actorId: request.apiSession ? request.apiSession.user.id : `apikey:${request.apiKey?.id ?? 'unknown'}`,
    // With an API key the caller is the site's backend: its address is not the end user's. Without one
    // (sign-up and sign-in, or a session token) the caller is the user's own app, charged per address.
    viaBackend: request.apiKey !== undefined,
    // The key's `api_key_used`, for the operation to commit with its own first write (carryKeyUse routes).
    ...(request.carriedAudit ? { carriedAudit: request.carriedAudit } : {}),
  };
}

/** The session token sent with the request (end-user routes). */
export function sessionToken(request: FastifyRequest): string {
  const header = request.headers.authorization ?? '';
  return header.startsWith('Bearer ') ? header.slice(7).trim() : '';
}
