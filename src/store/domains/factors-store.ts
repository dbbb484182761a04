import type { WriteOutcome } from '../write-outcome.js';
/** Second factors (TOTP and email). A factor is pending until `confirmedAt` is set. */
export interface FactorsStore {
  createFactor(factor: NewFactor): Promise<void>;
  findFactor(userId: string, factorId: string): Promise<SecretFactorRecord | undefined>;
  /**
   * The user's factors: authenticator apps and email (oldest first), then security keys (kind `webauthn`,
   * confirmed when registered; their details are in `listWebauthnCredentials`).
   */
  listFactors(userId: string): Promise<FactorRecord[]>;
  /** How many factors of each kind exist, and how many users have at least one of that kind (statistics). */
  countFactorsByKind(): Promise<{ kind: FactorKind; factors: number; users: number }[]>;
  /** Confirms a pending factor. `confirmed` is false when it was already confirmed or is gone. */
  confirmFactor(userId: string, factorId: string, at: Date): Promise<WriteOutcome<'confirmed'>>;
  /** Removes a factor (a security key too); `removed` is false when there was none. */
  deleteFactor(userId: string, factorId: string): Promise<WriteOutcome<'removed'>>;
  /**
   * Removes every factor of the user (confirmed and pending, security keys included) and returns how many
   * were removed.
   */
  deleteAllFactors(userId: string): Promise<number>;
  /**
   * Records that TOTP time step `step` was accepted. Conditional: wins only when `step` is greater than
   * the last accepted step, so a step (or any earlier one) is accepted at most once, even when
   * concurrent requests race (RFC 6238 5.2; STANDARDS req. 23).
   */
  recordTotpStep(factorId: string, step: number, at: Date): Promise<WriteOutcome<'recorded'>>;
  /**
   * Sealed TOTP seeds in factor-id order after `afterId` (keyset pagination), for re-sealing under a new key.
   */
  listSealedSecrets(afterId: string | null, limit: number): Promise<SealedSecretRecord[]>;
  /**
   * Replaces a factor's sealed seed only while it still holds `expected`, so a re-seal never overwrites a
   * seed that was re-enrolled meanwhile; `replaced` is false otherwise.
   */
  replaceSealedSecret(factorId: string, expected: string, next: string): Promise<WriteOutcome<'replaced'>>;
}

/** A second factor's kind: `webauthn` is a security key or passkey (stored in its own table). */
export type FactorKind = 'totp' | 'email' | 'webauthn';
/** The kinds kept in the factors table (a security key is created registered, with its public key). */
export type SecretFactorKind = 'totp' | 'email';

export interface NewFactor {
  id: string;
  userId: string;
  kind: SecretFactorKind;
  /** TOTP: the seed and its settings, encrypted (AES-256-GCM, see core/secret-box). Email: null. */
  secretCiphertext: string | null;
  createdAt: Date;
}

export interface SealedSecretRecord {
  factorId: string;
  secretCiphertext: string;
}

/** A row of the factors table (an authenticator app or email). */
export interface SecretFactorRecord extends NewFactor {
  confirmedAt: Date | null;
  lastUsedStep: number | null;
  lastUsedAt: Date | null;
}

/** Any factor, security keys included (`listFactors`). */
export interface FactorRecord extends Omit<SecretFactorRecord, 'kind'> {
  kind: FactorKind;
}
