import { type ApiKeyScope, apiKeySecretMatches, parseApiKey, scopeAllows } from '../../core/api-key.js';
import { fail, ok, type Result } from '../../core/result.js';
import type { ApiKeyRecord } from '../../store/store.js';
import { auditEvent } from '../audit/audit.js';
import type { CarriedAuditEvents } from '../audit/carried-audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';

export type { ApiKeyRecord };

/**
 * Why a bearer token was refused, as the audit log records it (`details.reason`). The caller is told only
 * `api_key_required` (or `api_scope_missing`): which of these it was is for an administrator's eye.
 */
export type ApiKeyRefusalReason = 'missing' | 'malformed' | 'unknown' | 'revoked' | 'wrong_secret';

/**
 * API-key authorization, the one place for it: the key is verified, the operation's scope checked, and
 * every outcome is audited exactly once — `api_key_refused` (with its reason) for a missing, malformed,
 * unknown, revoked or wrong key, `api_key_scope_refused` for a valid key used outside its scope, and
 * `api_key_used` (with the operation) for every call let through. The edges call this and map the error.
 */
export async function authorizeApiKey(
  deps: ServiceDeps,
  input: {
    /** The bearer token as sent ('' when none was). */
    key: string;
    /** The scope the operation needs; an operation that names none is refused (fail closed). */
    scope: ApiKeyScope | undefined;
    /** What was asked, e.g. `GET /api/v1/statistics`, recorded with the outcome. */
    operation: string;
    context: RequestContext;
    /**
     * When given, the `api_key_used` of a call let through is put here for the operation to commit with
     * its own events (audit/carried-audit.ts) instead of being written now. Refusals are written now.
     */
    carry?: CarriedAuditEvents;
  },
): Promise<Result<ApiKeyRecord, 'api_key_required' | 'api_scope_missing'>> {
  const checked = await verifyApiKey(deps, input.key);
  const now = deps.clock.now();
  if (!checked.ok) {
    await deps.store.appendAuditEvent(
      auditEvent(now, 'api_key_refused', 'failure', null, input.context, {
        keyId: checked.keyId,
        reason: checked.reason,
        operation: input.operation,
      }),
    );
    return fail('api_key_required');
  }
  const key = checked.record;
  const context = { ...input.context, actorId: `apikey:${key.id}` };
  if (!input.scope || !scopeAllows(key.scopes, input.scope)) {
    await deps.store.appendAuditEvent(
      auditEvent(now, 'api_key_scope_refused', 'failure', null, context, {
        keyId: key.id,
        operation: input.operation,
        scope: input.scope ?? null,
      }),
    );
    return fail('api_scope_missing');
  }
  await noteLastUsed(deps, key, now);
  // Every use of a key is on record: which key, which operation, from where.
  const used = auditEvent(now, 'api_key_used', 'success', null, context, {
    keyId: key.id,
    operation: input.operation,
  });
  if (input.carry) input.carry.add(used);
  else await deps.store.appendAuditEvent(used);
  return ok(key);
}

type VerifiedKey =
  | { ok: true; record: ApiKeyRecord }
  | { ok: false; reason: ApiKeyRefusalReason; keyId: string | null };

/** The live key a bearer token names, or why not (never told to the caller: all refusals look alike). */
async function verifyApiKey(deps: ServiceDeps, key: string): Promise<VerifiedKey> {
  if (key === '') return { ok: false, reason: 'missing', keyId: null };
  const parsed = parseApiKey(key);
  if (!parsed) return { ok: false, reason: 'malformed', keyId: null };
  const record = await deps.store.findApiKey(parsed.id);
  if (!record) return { ok: false, reason: 'unknown', keyId: parsed.id };
  if (record.revokedAt !== null) return { ok: false, reason: 'revoked', keyId: parsed.id };
  if (!apiKeySecretMatches(parsed.secret, record.secretHash))
    return { ok: false, reason: 'wrong_secret', keyId: parsed.id };
  return { ok: true, record };
}

/**
 * "Last used" is for an administrator's eye (is this key still in use?): a minute's precision is plenty,
 * and a busy backend does not pay a durable write on every call.
 */
async function noteLastUsed(deps: ServiceDeps, key: ApiKeyRecord, now: Date): Promise<void> {
  if (key.lastUsedAt === null || now.getTime() - key.lastUsedAt.getTime() >= API_KEY_LAST_USED_PRECISION_MS) {
    await deps.store.touchApiKey(key.id, now);
  }
}

export const API_KEY_LAST_USED_PRECISION_MS = 60_000;
