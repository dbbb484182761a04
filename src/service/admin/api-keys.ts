import { type ApiKeyScope, apiKeyScopes, generateApiKey, hashApiKeySecret } from '../../core/api-key.js';
import { fail, ok, type Result } from '../../core/result.js';
import type { ApiKeyRecord } from '../../store/store.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';

/** A new key: `key` is the whole key, shown this once. */
export interface CreatedApiKey {
  id: string;
  key: string;
  scopes: ApiKeyScope[];
}

/** Creates a key. The full key is returned once and never stored: only its secret's hash is. */
export async function createApiKey(
  deps: ServiceDeps,
  input: { name: string; scopes: readonly string[]; context: RequestContext },
): Promise<Result<CreatedApiKey, 'invalid_api_key_request'>> {
  const name = input.name.trim();
  const scopes = [...new Set(input.scopes)];
  if (name.length === 0 || name.length > 80 || scopes.length === 0) return fail('invalid_api_key_request');
  if (!scopes.every((scope) => (apiKeyScopes as readonly string[]).includes(scope)))
    return fail('invalid_api_key_request');
  const generated = generateApiKey(deps.random);
  const now = deps.clock.now();
  await deps.store.transaction(async (tx) => {
    await tx.createApiKey({
      id: generated.id,
      name,
      secretHash: hashApiKeySecret(generated.secret),
      scopes,
      createdAt: now,
      createdBy: input.context.actorId ?? null,
    });
    await tx.appendAuditEvent(
      auditEvent(now, 'api_key_created', 'success', null, input.context, {
        keyId: generated.id,
        name,
        scopes: scopes.join(' '),
      }),
    );
  });
  return ok({ id: generated.id, key: generated.key, scopes: scopes as ApiKeyScope[] });
}

/** The key that was revoked. */
export interface RevokedApiKey {
  id: string;
}

export async function revokeApiKey(
  deps: ServiceDeps,
  input: { id: string; context: RequestContext },
): Promise<Result<RevokedApiKey, 'api_key_not_found'>> {
  const now = deps.clock.now();
  return deps.store.transaction(async (tx) => {
    const { revoked } = await tx.revokeApiKey(input.id, now);
    if (!revoked) return fail('api_key_not_found');
    await tx.appendAuditEvent(
      auditEvent(now, 'api_key_revoked', 'success', null, input.context, { keyId: input.id }),
    );
    return ok({ id: input.id });
  });
}

/** Every key, revoked ones too, for the administrator's list (the secret's hash is never shown). */
export function listApiKeys(deps: ServiceDeps): Promise<ApiKeyRecord[]> {
  return deps.store.listApiKeys();
}
