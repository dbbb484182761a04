import { createHash, timingSafeEqual } from 'node:crypto';
import { fail, ok, type Result } from '../../core/result.js';
import type { OidcClientChanges, OidcClientKind, OidcClientRecord } from '../../store/oidc-store.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';

/** What the edges show of an application (never the store itself). */
export type { OidcClientKind, OidcClientRecord } from '../../store/oidc-store.js';

/** The scopes an application may be allowed; `openid` is always among them. */
export const OIDC_SCOPES = ['openid', 'email', 'profile', 'groups', 'offline_access'] as const;

/** What an administrator gives when registering or changing an application. */
export interface OidcClientInput {
  name: string;
  redirectUris: readonly string[];
  postLogoutRedirectUris: readonly string[];
  firstParty: boolean;
  twoFactorRequired: boolean;
  scopes: readonly string[];
}

const MAX_URIS = 10;
const MAX_URI_LENGTH = 2000;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * A redirect URI as RFC 9700 2.1 wants it: absolute, compared exactly (so registered exactly as sent),
 * never with a fragment (RFC 6749 3.1.2), https except on the loopback interface (RFC 8252 7.3).
 */
export function validRedirectUri(text: string): boolean {
  if (text.length === 0 || text.length > MAX_URI_LENGTH) return false;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.hash || text.includes('#') || url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

function validInput(input: OidcClientInput): boolean {
  const name = input.name.trim();
  const uris = (list: readonly string[], min: number) =>
    list.length >= min && list.length <= MAX_URIS && list.every(validRedirectUri);
  return (
    name.length > 0 &&
    name.length <= 100 &&
    uris(input.redirectUris, 1) &&
    uris(input.postLogoutRedirectUris, 0) &&
    input.scopes.includes('openid') &&
    input.scopes.every((scope) => (OIDC_SCOPES as readonly string[]).includes(scope))
  );
}

/** SHA-256 suffices for a 256-bit random secret (ASVS 5.0 6.5.2); the secret itself is never stored. */
export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented secret with the stored hash. */
export function clientSecretMatches(storedHash: string, presented: string): boolean {
  const expected = Buffer.from(storedHash, 'hex');
  const actual = Buffer.from(hashClientSecret(presented), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function newSecret(deps: ServiceDeps): string {
  return `sks_${Buffer.from(deps.random.bytes(32)).toString('base64url')}`;
}

const unique = (list: readonly string[]) => [...new Set(list.map((item) => item.trim()))];

/** Registers an application. A confidential one gets a secret, returned here once and stored hashed. */
export async function registerOidcClient(
  deps: ServiceDeps,
  input: OidcClientInput & { kind: OidcClientKind; context: RequestContext },
): Promise<Result<{ client: OidcClientRecord; secret: string | null }, 'invalid_oidc_client'>> {
  if (!validInput(input)) return fail('invalid_oidc_client');
  const secret = input.kind === 'confidential' ? newSecret(deps) : null;
  const now = deps.clock.now();
  const id = `app_${Buffer.from(deps.random.bytes(12)).toString('base64url')}`;
  const client = {
    id,
    name: input.name.trim(),
    redirectUris: unique(input.redirectUris),
    postLogoutRedirectUris: unique(input.postLogoutRedirectUris),
    kind: input.kind,
    firstParty: input.firstParty,
    twoFactorRequired: input.twoFactorRequired,
    scopes: unique(input.scopes),
    secretHash: secret === null ? null : hashClientSecret(secret),
    createdAt: now,
  };
  await deps.store.transaction(async (tx) => {
    await tx.createOidcClient(client);
    await tx.appendAuditEvent(
      auditEvent(now, 'oidc_client_registered', 'success', null, input.context, {
        client_id: id,
        name: client.name,
        kind: client.kind,
        two_factor_required: client.twoFactorRequired,
        first_party: client.firstParty,
      }),
    );
  });
  return ok({ client: { ...client, updatedAt: now, disabledAt: null }, secret });
}

async function change(
  deps: ServiceDeps,
  id: string,
  changes: OidcClientChanges,
  audit: {
    action:
      | 'oidc_client_changed'
      | 'oidc_client_secret_rotated'
      | 'oidc_client_disabled'
      | 'oidc_client_enabled';
    context: RequestContext;
  },
): Promise<Result<null, 'oidc_client_not_found'>> {
  const now = deps.clock.now();
  const updated = await deps.store.transaction(async (tx) => {
    const result = await tx.updateOidcClient(id, changes, now);
    if (result.updated)
      await tx.appendAuditEvent(
        auditEvent(now, audit.action, 'success', null, audit.context, { client_id: id }),
      );
    return result.updated;
  });
  return updated ? ok(null) : fail('oidc_client_not_found');
}

export async function updateOidcClient(
  deps: ServiceDeps,
  input: OidcClientInput & { id: string; context: RequestContext },
): Promise<Result<null, 'invalid_oidc_client' | 'oidc_client_not_found'>> {
  if (!validInput(input)) return fail('invalid_oidc_client');
  return change(
    deps,
    input.id,
    {
      name: input.name.trim(),
      redirectUris: unique(input.redirectUris),
      postLogoutRedirectUris: unique(input.postLogoutRedirectUris),
      firstParty: input.firstParty,
      twoFactorRequired: input.twoFactorRequired,
      scopes: unique(input.scopes),
    },
    { action: 'oidc_client_changed', context: input.context },
  );
}

/** A new secret, shown once; the old one stops working at once. */
export async function rotateOidcClientSecret(
  deps: ServiceDeps,
  input: { id: string; context: RequestContext },
): Promise<Result<{ secret: string }, 'oidc_client_not_found' | 'oidc_client_public'>> {
  const client = await deps.store.findOidcClient(input.id);
  if (!client) return fail('oidc_client_not_found');
  if (client.kind === 'public') return fail('oidc_client_public');
  const secret = newSecret(deps);
  const changed = await change(
    deps,
    input.id,
    { secretHash: hashClientSecret(secret) },
    { action: 'oidc_client_secret_rotated', context: input.context },
  );
  return changed.ok ? ok({ secret }) : changed;
}

/** A disabled application can neither start a sign-in nor redeem codes or tokens; enabling undoes it. */
export async function setOidcClientDisabled(
  deps: ServiceDeps,
  input: { id: string; disabled: boolean; context: RequestContext },
): Promise<Result<null, 'oidc_client_not_found'>> {
  return change(
    deps,
    input.id,
    { disabledAt: input.disabled ? deps.clock.now() : null },
    { action: input.disabled ? 'oidc_client_disabled' : 'oidc_client_enabled', context: input.context },
  );
}

export async function deleteOidcClient(
  deps: ServiceDeps,
  input: { id: string; context: RequestContext },
): Promise<Result<null, 'oidc_client_not_found'>> {
  const now = deps.clock.now();
  const deleted = await deps.store.transaction(async (tx) => {
    const result = await tx.deleteOidcClient(input.id);
    if (result.deleted)
      await tx.appendAuditEvent(
        auditEvent(now, 'oidc_client_deleted', 'success', null, input.context, { client_id: input.id }),
      );
    return result.deleted;
  });
  return deleted ? ok(null) : fail('oidc_client_not_found');
}

export async function listOidcClients(deps: ServiceDeps): Promise<OidcClientRecord[]> {
  return deps.store.listOidcClients();
}

export async function findOidcClient(deps: ServiceDeps, id: string): Promise<OidcClientRecord | undefined> {
  return deps.store.findOidcClient(id);
}

/**
 * The client as oidc-provider reads it (RFC 7591 metadata), or undefined for an unknown or disabled one.
 * Read on every request, never cached, so disabling takes effect at once on every instance.
 * `client_secret` holds the secret's hash: the provider compares through `clientSecretMatches`.
 */
export async function clientMetadata(
  deps: ServiceDeps,
  id: string,
): Promise<Record<string, unknown> | undefined> {
  const client = await deps.store.findOidcClient(id);
  if (!client || client.disabledAt) return undefined;
  const offline = client.scopes.includes('offline_access');
  return {
    client_id: client.id,
    client_name: client.name,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    grant_types: offline ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
    response_types: ['code'],
    scope: client.scopes.join(' '),
    ...(client.kind === 'public'
      ? { token_endpoint_auth_method: 'none' }
      : { token_endpoint_auth_method: 'client_secret_basic', client_secret: client.secretHash }),
    'urn:sparekey:first_party': client.firstParty,
    'urn:sparekey:two_factor_required': client.twoFactorRequired,
  };
}
