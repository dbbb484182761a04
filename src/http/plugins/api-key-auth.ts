import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyScope } from '../../core/api-key.js';
import type { ErrorCode } from '../../core/errors.js';
import type { ApiKeyRecord } from '../../service/admin/authorize-api-key.js';
import { CarriedAuditEvents } from '../../service/audit/carried-audit.js';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import type { UseCases } from '../../service/use-cases.js';
import { sendApiError } from '../api-replies.js';

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
    /**
     * Body fields whose missing, empty or over-long value answers with the code the library and the CLI
     * give for the same value (e.g. `reason` -> `reason_required`) instead of the generic invalid_request,
     * so every edge speaks one error vocabulary (plugins/api-error-handler.ts).
     */
    fieldErrors?: Partial<Record<string, ErrorCode>>;
    /**
     * API-key routes whose use case commits the key's `api_key_used` event with its own first write
     * (through `apiContext`) instead of the edge writing it in a transaction of its own. Whatever the
     * operation did not write is written before the answer is sent (register-api.ts), so the call is on
     * record exactly once either way.
     */
    carryKeyUse?: boolean;
  }
  interface FastifyRequest {
    apiKey: ApiKeyRecord | undefined;
    apiSession: ActiveSession | undefined;
    /** The audit events carried to this request's operation (routes with `carryKeyUse`). */
    carriedAudit: CarriedAuditEvents | undefined;
  }
}

/**
 * onSend, for the routes with `carryKeyUse`: what the operation did not commit with its own events (it
 * wrote none, or its transaction rolled back) is written now, before the answer leaves. If that write
 * fails the answer becomes the error (500), and it is not tried again for that error's answer.
 */
export function writeCarriedAudit(useCases: UseCases) {
  return async (request: FastifyRequest, _reply: FastifyReply, payload: unknown) => {
    const carried = request.carriedAudit;
    if (carried === undefined) return payload;
    request.carriedAudit = undefined;
    await useCases.writeCarriedAuditEvents(carried);
    return payload;
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
    const carry = request.routeOptions.config.carryKeyUse ? new CarriedAuditEvents() : undefined;
    const authorized = await useCases.authorizeApiKey({
      key: token,
      scope: request.routeOptions.config.scope,
      operation: `${request.method} ${request.routeOptions.url ?? ''}`,
      context: { ip: request.ip, userAgent: request.headers['user-agent'] ?? null },
      carry,
    });
    if (!authorized.ok) {
      if (authorized.error === 'api_key_required') reply.header('www-authenticate', 'Bearer');
      return sendApiError(reply, authorized.error);
    }
    request.apiKey = authorized.value;
    request.carriedAudit = carry;
  };
}
