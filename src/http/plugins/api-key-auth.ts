import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyScope } from '../../core/api-key.js';
import { type ErrorCode, errorMessage } from '../../core/errors.js';
import type { ApiKeyRecord } from '../../service/admin/authorize-api-key.js';
import type { RequestContext } from '../../service/deps.js';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import type { UseCases } from '../../service/use-cases.js';
import { errorStatus } from '../error-status.js';
import { noteRetryAfter } from '../retry-after.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope an API-key route needs. */
    scope?: ApiKeyScope;
    /**
     * End-user routes: `none` (sign-up, sign-in), or a session token (from sign-in) in
     * `Authorization: Bearer`, at the `second_factor` or `signed_in` stage, or at either (`any`: sign-out).
     * Absent: an API key.
     */
    session?: 'none' | 'any' | ActiveSession['record']['stage'];
    /**
     * A signed-in route a role that must set up two-factor may still use before it has (the overview, adding a
     * factor, the recovery codes, signing out). Every other signed-in route answers 403 mfa_setup_required
     * until then, as the pages send such a person to the two-factor settings.
     */
    duringTwoFactorSetup?: boolean;
  }
  interface FastifyRequest {
    apiKey: ApiKeyRecord | undefined;
    apiSession: ActiveSession | undefined;
  }
}

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
  };
}

/**
 * onRequest: a session token for the end-user routes; otherwise a valid, unrevoked key with the route's scope
 * (authorizeApiKey, which audits every use and every refusal), or a 401/403 in the API's error shape.
 */
export function requireApiKey(useCases: UseCases) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    // An unknown path is a 404 for everyone: the routes are public in /openapi.json anyway.
    if (request.is404) return;
    const header = request.headers.authorization;
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const sessionRule = request.routeOptions.config.session;
    if (sessionRule === 'none') return;
    if (sessionRule) {
      const session = token ? await useCases.resolveSession(token) : undefined;
      if (!session || (sessionRule !== 'any' && session.record.stage !== sessionRule)) {
        return sendApiError(reply, sessionRule === 'second_factor' ? 'sign_in_expired' : 'not_signed_in');
      }
      request.apiSession = session;
      // The gate is the sign-in flow's rule (service/sign-in/begin-sign-in.ts), the same as the pages'.
      if (
        session.record.stage === 'signed_in' &&
        !request.routeOptions.config.duringTwoFactorSetup &&
        (await useCases.twoFactorSetupOwed(session.user))
      )
        return sendApiError(reply, 'mfa_setup_required');
      return;
    }
    const authorized = await useCases.authorizeApiKey({
      key: token,
      scope: request.routeOptions.config.scope,
      operation: `${request.method} ${request.routeOptions.url ?? ''}`,
      context: { ip: request.ip, userAgent: request.headers['user-agent'] ?? null },
    });
    if (!authorized.ok) {
      if (authorized.error === 'api_key_required') reply.header('www-authenticate', 'Bearer');
      return sendApiError(reply, authorized.error);
    }
    request.apiKey = authorized.value;
  };
}

/** The session token sent with the request (end-user routes). */
export function sessionToken(request: FastifyRequest): string {
  const header = request.headers.authorization ?? '';
  return header.startsWith('Bearer ') ? header.slice(7).trim() : '';
}
