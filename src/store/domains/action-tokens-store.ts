import type { WriteOutcome } from '../write-outcome.js';
/**
 * One-time emailed links (unlocking second factors, resetting a password). Only the SHA-256 of the
 * token is stored.
 */
export interface ActionTokensStore {
  createActionToken(token: NewActionToken): Promise<void>;
  /**
   * Creates the token unless its user already has a live one of its purpose at `token.createdAt`: of
   * concurrent callers for one user and purpose, in any process, exactly one creates it (the user's row
   * lock serializes them). `created` is false when a live one was there.
   */
  createActionTokenUnlessLive(token: NewActionToken): Promise<WriteOutcome<'created'>>;
  /**
   * Spends a live token of `purpose` (unused, unexpired at `at`) with one conditional update: of concurrent
   * spenders exactly one gets `consumed: true` with the user id.
   */
  consumeActionToken(
    idHash: string,
    purpose: string,
    at: Date,
  ): Promise<WriteOutcome<'consumed', never, { userId: string }>>;
  /** Whether the user has a live token of `purpose` (so a second email is not sent while one is valid). */
  hasLiveActionToken(userId: string, purpose: string, at: Date): Promise<boolean>;
  /** The owner of a live token of `purpose`, without spending it (a password is checked first). */
  findActionToken(idHash: string, purpose: string, at: Date): Promise<{ userId: string } | undefined>;
  /** Spends every live token of the user's for `purpose` (a newer link, or a changed password, kills the old ones). */
  revokeActionTokens(userId: string, purpose: string, at: Date): Promise<number>;
}

export interface NewActionToken {
  idHash: string;
  purpose: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
}
