import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import type { SealingKeyRing } from '../../core/sealing-key-ring.js';
import { openSecret, sealedKeyId, sealSecret } from '../../core/secret-box.js';
import type { OidcSigningKeyRecord } from '../../store/oidc-store.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { sealingKeyRing } from '../factors/totp-factor-secret.js';

/**
 * How long a rotated-out signing key stays published after the next one starts signing: longer than
 * anything it signed lives (ID tokens and access tokens, see OIDC_TOKEN_TTL_SECONDS), so a token signed
 * just before the switch still validates until it expires, then the key goes (the purge deletes it).
 */
export const RETIRED_KEY_PUBLISHED_MS = 2 * 60 * 60_000;

/**
 * How long a new key is published before it signs anything. Applications keep a copy of the JWKS and do
 * not fetch it again for every token: openid-client, for one, keeps its copy up to five minutes and will
 * not fetch it again for an unknown key within a minute of the last fetch. A token signed with a key
 * published a moment earlier would be refused by them; ten minutes ahead, every such copy has it.
 */
export const NEXT_KEY_PUBLISHED_AHEAD_MS = 10 * 60_000;

/** A private signing key as a JWK (RS256: what Grafana, Gitea and Nextcloud all accept). */
export type SigningJwk = JsonWebKey & { kid: string; alg: 'RS256'; use: 'sig' };

/** The setting that makes the first key a single decision when several instances start at once. */
const FIRST_KEY_CLAIM = 'oidc.first_signing_key';

function newSigningKey(deps: ServiceDeps): SigningJwk {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = Buffer.from(deps.random.bytes(12)).toString('base64url');
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

const associatedData = (kid: string) => `oidc-key:${kid}`;

/** Sealed like the TOTP seeds (AES-256-GCM under the sealing keys), the kid as associated data. */
function seal(deps: ServiceDeps, jwk: SigningJwk): string {
  const plaintext = new TextEncoder().encode(JSON.stringify(jwk));
  return sealSecret(sealingKeyRing(deps).current, plaintext, deps.random, associatedData(jwk.kid));
}

function open(deps: ServiceDeps, kid: string, sealed: string): SigningJwk {
  const plaintext = openSecret(sealingKeyRing(deps).opening, sealed, associatedData(kid));
  // A key that does not open means the sealing keys are wrong: signing with nothing is not an option.
  if (!plaintext) throw new Error(`The OpenID Connect signing key ${kid} cannot be opened (sealing keys?)`);
  return JSON.parse(new TextDecoder().decode(plaintext)) as SigningJwk;
}

/**
 * The published keys with the one that signs first (oidc-provider signs with the first): the newest key
 * published for at least NEXT_KEY_PUBLISHED_AHEAD_MS, or, when none is (a first start), the oldest one.
 * The others follow, newest first.
 */
function signingKeyFirst(rows: readonly OidcSigningKeyRecord[], now: Date): OidcSigningKeyRecord[] {
  const newestFirst = [...rows].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const matured = now.getTime() - NEXT_KEY_PUBLISHED_AHEAD_MS;
  const signing = newestFirst.find((row) => row.createdAt.getTime() <= matured) ?? newestFirst.at(-1);
  return signing ? [signing, ...newestFirst.filter((row) => row !== signing)] : [];
}

async function publishedKeys(deps: ServiceDeps): Promise<OidcSigningKeyRecord[]> {
  const now = deps.clock.now();
  return signingKeyFirst(await deps.store.listOidcSigningKeys(now), now);
}

/**
 * The published signing keys, the one that signs first, private parts included. On the first start there
 * are none: one is generated; of instances starting together, one creates it (the claim) and the others
 * read it.
 */
export async function loadSigningKeys(deps: ServiceDeps): Promise<SigningJwk[]> {
  let rows = await publishedKeys(deps);
  if (rows.length === 0) {
    const jwk = newSigningKey(deps);
    const now = deps.clock.now();
    await deps.store.transaction(async (tx) => {
      const { claimed } = await tx.claimSetting(FIRST_KEY_CLAIM, jwk.kid, now);
      if (claimed)
        await tx.addOidcSigningKey({ kid: jwk.kid, sealedJwk: seal(deps, jwk), createdAt: now }, now);
    });
    rows = await publishedKeys(deps);
  }
  return rows.map((row) => open(deps, row.kid, row.sealedJwk));
}

/**
 * `sparekey oidc rotate-keys`: a new key is published now and signs from NEXT_KEY_PUBLISHED_AHEAD_MS on;
 * the previous one stays published for RETIRED_KEY_PUBLISHED_MS after that. Returns the new key's id.
 */
export async function rotateSigningKeys(
  deps: ServiceDeps,
  context: RequestContext,
): Promise<{ kid: string }> {
  const jwk = newSigningKey(deps);
  const now = deps.clock.now();
  await deps.store.transaction(async (tx) => {
    await tx.claimSetting(FIRST_KEY_CLAIM, jwk.kid, now);
    await tx.addOidcSigningKey(
      { kid: jwk.kid, sealedJwk: seal(deps, jwk), createdAt: now },
      new Date(now.getTime() + NEXT_KEY_PUBLISHED_AHEAD_MS + RETIRED_KEY_PUBLISHED_MS),
    );
    await tx.appendAuditEvent(
      auditEvent(now, 'oidc_keys_rotated', 'success', null, context, { kid: jwk.kid }),
    );
  });
  return { kid: jwk.kid };
}

/**
 * The ids of the published keys, the signing one first: instances compare it to notice a rotation, and
 * the moment a published key starts signing.
 */
export async function signingKeyVersion(deps: ServiceDeps): Promise<string> {
  return (await publishedKeys(deps)).map((row) => row.kid).join(',');
}

/**
 * Part of `sparekey secret rotate`: every published signing key not sealed under the ring's current key is
 * sealed under it, with a compare-and-set like the TOTP seeds, so the older sealing key can be pruned. The
 * running providers keep the keys they opened; the kid stays the same, so nothing is rebuilt or re-signed.
 */
export async function resealSigningKeys(
  deps: ServiceDeps,
  ring: SealingKeyRing,
): Promise<{ resealed: number; unreadable: number }> {
  let resealed = 0;
  let unreadable = 0;
  for (const row of await deps.store.listOidcSigningKeys(deps.clock.now())) {
    if (sealedKeyId(row.sealedJwk) === ring.current.id) continue;
    const plaintext = openSecret(ring.opening, row.sealedJwk, associatedData(row.kid));
    if (!plaintext) {
      unreadable++;
      continue;
    }
    const next = sealSecret(ring.current, plaintext, deps.random, associatedData(row.kid));
    plaintext.fill(0);
    if ((await deps.store.replaceSealedOidcSigningKey(row.kid, row.sealedJwk, next)).replaced) resealed++;
  }
  return { resealed, unreadable };
}

/** How many published signing keys each sealing key seals (a sealing key still counted must not be pruned). */
export async function countSealedSigningKeysByKey(deps: ServiceDeps): Promise<Record<string, number>> {
  const byKey: Record<string, number> = {};
  for (const row of await deps.store.listOidcSigningKeys(deps.clock.now())) {
    const id = sealedKeyId(row.sealedJwk) ?? 'unknown';
    byKey[id] = (byKey[id] ?? 0) + 1;
  }
  return byKey;
}
