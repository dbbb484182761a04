import { sealedKeyId } from '../../core/secret-box.js';
import type { SealedSecretRecord } from '../../store/store.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { resealFactorSecret, sealingKeyRing } from '../factors/totp-factor-secret.js';
import { countSealedSigningKeysByKey, resealSigningKeys } from '../oidc/signing-keys.js';

export interface ResealReport {
  /** The key every seed is now sealed under. */
  currentKeyId: string;
  /** Seeds moved from an older key to the current one. */
  resealed: number;
  /** OpenID Connect signing keys moved from an older key to the current one. */
  resealedSigningKeys: number;
  /**
   * Seeds and signing keys that no key in the ring opens (tampered rows, or a key removed too early): left
   * as they are.
   */
  unreadable: number;
  /** After the run: how many secrets each key id seals. Only the current key's id should remain. */
  byKey: Record<string, number>;
}

const PAGE = 500;

/** Every sealed seed, page by page in factor-id order, so neither caller holds them all at once. */
async function* sealedSecrets(deps: ServiceDeps): AsyncGenerator<SealedSecretRecord> {
  let after: string | null = null;
  for (;;) {
    const page = await deps.store.listSealedSecrets(after, PAGE);
    yield* page;
    if (page.length < PAGE) return;
    after = page[page.length - 1]?.factorId ?? null;
  }
}

/**
 * How many sealed secrets (TOTP seeds and OpenID Connect signing keys) each key id seals: an operator
 * removes an old key only when its count is zero.
 */
export async function countSealedSecretsByKey(deps: ServiceDeps): Promise<Record<string, number>> {
  const byKey = await countSealedSigningKeysByKey(deps);
  for await (const row of sealedSecrets(deps)) {
    const id = sealedKeyId(row.secretCiphertext) ?? 'unknown';
    byKey[id] = (byKey[id] ?? 0) + 1;
  }
  return byKey;
}

/**
 * Re-seals every TOTP seed and every OpenID Connect signing key not sealed under the ring's current key
 * (`sparekey secret rotate`). Each row is replaced with a compare-and-set, so a seed re-enrolled meanwhile
 * is left alone and the run can be repeated or interrupted at any point: a row holds either its old sealed
 * value or its new one, both of which open.
 */
export async function resealSecrets(
  deps: ServiceDeps,
  input: { context: RequestContext },
): Promise<ResealReport> {
  const ring = sealingKeyRing(deps);
  let resealed = 0;
  let unreadable = 0;
  for await (const row of sealedSecrets(deps)) {
    if (sealedKeyId(row.secretCiphertext) === ring.current.id) continue;
    const next = resealFactorSecret(deps, ring, row);
    if (next === undefined) unreadable++;
    else if ((await deps.store.replaceSealedSecret(row.factorId, row.secretCiphertext, next)).replaced)
      resealed++;
  }
  const signingKeys = await resealSigningKeys(deps, ring);
  unreadable += signingKeys.unreadable;
  const byKey = await countSealedSecretsByKey(deps);
  await deps.store.appendAuditEvent(
    auditEvent(
      deps.clock.now(),
      'sealing_key_rotated',
      unreadable === 0 ? 'success' : 'failure',
      null,
      input.context,
      {
        keyId: ring.current.id,
        resealed,
        resealedSigningKeys: signingKeys.resealed,
        unreadable,
      },
    ),
  );
  return {
    currentKeyId: ring.current.id,
    resealed,
    resealedSigningKeys: signingKeys.resealed,
    unreadable,
    byKey,
  };
}
