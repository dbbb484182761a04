import type { WriteOutcome } from '../write-outcome.js';
/** Security keys and passkeys (WebAuthn): the credentials and the single-use ceremony challenges. */
export interface WebauthnStore {
  /** `created` is false when the credential id is already registered (to this or any other user). */
  createWebauthnCredential(
    credential: NewWebauthnCredential,
  ): Promise<WriteOutcome<'created', 'credential_taken'>>;
  /** The user's keys, oldest first. */
  listWebauthnCredentials(userId: string): Promise<WebauthnCredentialRecord[]>;
  /** The key with this credential id, whoever owns it (passkey sign-in finds the user this way). */
  findWebauthnCredential(credentialId: string): Promise<WebauthnCredentialRecord | undefined>;
  /**
   * Records a verified use: the new signature counter and backup state. Conditional: wins only when the
   * counter moves forward (or stays 0 on an authenticator that keeps none), so a counter that goes
   * backwards or repeats is refused, even between two concurrent uses (WebAuthn L2 6.1.1).
   */
  recordWebauthnUse(
    id: string,
    use: { counter: number; backedUp: boolean; at: Date },
  ): Promise<WriteOutcome<'recorded'>>;
  /** Renames one of the user's keys (never another user's). */
  renameWebauthnCredential(userId: string, id: string, name: string): Promise<WriteOutcome<'renamed'>>;
  createWebauthnChallenge(challenge: NewWebauthnChallenge): Promise<void>;
  /**
   * Spends a challenge with one conditional update: only for its ceremony and binding, unused, and
   * unexpired at `at`. Of concurrent spenders exactly one gets `consumed: true` (with the user it was issued for).
   */
  consumeWebauthnChallenge(input: {
    challenge: string;
    ceremony: WebauthnCeremony;
    bindingHash: string;
    at: Date;
  }): Promise<WriteOutcome<'consumed', never, { userId: string | null }>>;
}

export type WebauthnDeviceType = 'singleDevice' | 'multiDevice';

export interface NewWebauthnCredential {
  id: string;
  userId: string;
  /** base64url, as the authenticator names it. */
  credentialId: string;
  /** base64url COSE public key. */
  publicKey: string;
  counter: number;
  transports: readonly string[];
  /** From the backup-eligible flag: `multiDevice` keys may be synced (a passkey in a password manager). */
  deviceType: WebauthnDeviceType;
  backedUp: boolean;
  name: string;
  createdAt: Date;
}

export interface WebauthnCredentialRecord extends NewWebauthnCredential {
  lastUsedAt: Date | null;
}

/** What a challenge was issued for: it is good for that ceremony only. */
export type WebauthnCeremony = 'registration' | 'second_factor' | 'step_up' | 'passkey';

export interface NewWebauthnChallenge {
  /** base64url, as it appears in the client data. */
  challenge: string;
  ceremony: WebauthnCeremony;
  /** SHA-256 of what the challenge is bound to (the session, or the ceremony id given to the caller). */
  bindingHash: string;
  /** The user it was issued for; null for passkey sign-in (nobody is known yet). */
  userId: string | null;
  createdAt: Date;
  expiresAt: Date;
}
