import { buildSealingKeyRing, type SealingKeyRing } from '../../core/sealing-key-ring.js';
import { openSecret, sealSecret } from '../../core/secret-box.js';
import {
  checkTotpCode,
  decodeBase32,
  encodeBase32,
  type TotpCheck,
  type TotpSettings,
} from '../../core/totp.js';
import type { FactorRecord } from '../../store/store.js';
import type { ServiceDeps } from '../deps.js';

/** A TOTP factor's seed and the settings it was enrolled with (kept even if the defaults change later). */
export interface TotpFactorSecret {
  secret: Uint8Array;
  settings: Omit<TotpSettings, 'window'>;
}

interface SealedPayload {
  s: string;
  a: TotpSettings['algorithm'];
  d: number;
  p: number;
}

/**
 * Seals a seed for storage (AES-256-GCM; STANDARDS req 25). The factor id is the associated data, so
 * a ciphertext copied onto another factor's row does not open.
 */
export function sealTotpFactorSecret(deps: ServiceDeps, factorId: string, value: TotpFactorSecret): string {
  const payload: SealedPayload = {
    s: encodeBase32(value.secret),
    a: value.settings.algorithm,
    d: value.settings.digits,
    p: value.settings.periodSeconds,
  };
  const plaintext = new TextEncoder().encode(JSON.stringify(payload));
  return sealSecret(sealingKeyRing(deps).current, plaintext, deps.random, factorId);
}

/** The keys in force: after rotations, the source's ring; otherwise only the key from the server secret. */
export function sealingKeyRing(deps: ServiceDeps): SealingKeyRing {
  return deps.sealingKeys?.ring() ?? buildSealingKeyRing([], deps.keys.sealingKey);
}

/** Opens a stored seed, or undefined when it cannot be authenticated: callers fail closed. */
export function openTotpFactorSecret(deps: ServiceDeps, factor: FactorRecord): TotpFactorSecret | undefined {
  if (factor.kind !== 'totp' || !factor.secretCiphertext) return undefined;
  const plaintext = openSecret(sealingKeyRing(deps).opening, factor.secretCiphertext, factor.id);
  if (!plaintext) return undefined;
  const payload = JSON.parse(new TextDecoder().decode(plaintext)) as SealedPayload;
  const secret = decodeBase32(payload.s);
  if (!secret) return undefined;
  return { secret, settings: { algorithm: payload.a, digits: payload.d, periodSeconds: payload.p } };
}

/** Checks a code against a factor's seed: its enrolled settings with the operator's current drift window. */
export function checkFactorCode(
  deps: ServiceDeps,
  seed: TotpFactorSecret,
  input: { code: string; now: Date; lastUsedStep: number | null },
): TotpCheck {
  return checkTotpCode({
    secret: seed.secret,
    code: input.code,
    settings: { ...seed.settings, window: deps.options.totp.window },
    nowMs: input.now.getTime(),
    lastUsedStep: input.lastUsedStep,
  });
}

/**
 * The same seed sealed under the ring's current key, or undefined when no key in the ring opens it. The
 * plaintext never leaves this function; the factor id stays the associated data.
 */
export function resealFactorSecret(
  deps: ServiceDeps,
  ring: SealingKeyRing,
  row: { factorId: string; secretCiphertext: string },
): string | undefined {
  const plaintext = openSecret(ring.opening, row.secretCiphertext, row.factorId);
  if (!plaintext) return undefined;
  const sealed = sealSecret(ring.current, plaintext, deps.random, row.factorId);
  plaintext.fill(0);
  return sealed;
}
