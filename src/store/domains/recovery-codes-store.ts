import type { WriteOutcome } from '../write-outcome.js';
/** Recovery codes: at most one live set per user. */
export interface RecoveryCodesStore {
  /**
   * Replaces the user's set with `set` in one transaction: after it commits, every code of the old set
   * is invalid and the new set is complete. Concurrent calls for one user serialize; the last to commit wins.
   */
  replaceRecoveryCodeSet(userId: string, set: NewRecoveryCodeSet): Promise<void>;
  /** The stored digest for one slot of the user's live set (used or not), for verification. */
  findRecoveryCode(userId: string, slot: number): Promise<RecoveryCodeRecord | undefined>;
  /**
   * Marks one code used: `UPDATE ... WHERE used_at IS NULL`. Exactly one concurrent caller gets
   * `consumed: true`, with what its set has left; a code from a replaced set is never consumed.
   */
  consumeRecoveryCode(setId: string, slot: number, at: Date): Promise<RecoveryCodeConsumption>;
  getRecoveryCodeSummary(userId: string): Promise<RecoveryCodeSummary | undefined>;
  /** Every code of the user's current set as slot and time of use (never a code or digest), in slot order. */
  listRecoveryCodeSlots(userId: string): Promise<{ slot: number; usedAt: Date | null }[]>;
  /** Deletes the user's set; returns whether there was one. */
  deleteRecoveryCodeSet(userId: string): Promise<WriteOutcome<'deleted'>>;
  /** How many sets have each `remaining` value (maintained counters: exact and cheap at any scale). */
  getRecoveryCodeSetCounts(): Promise<{ remaining: number; sets: number }[]>;
}

export interface NewRecoveryCodeSet {
  id: string;
  generatedAt: Date;
  /** One entry per code: the non-secret slot number (0-31) and the versioned digest. */
  codes: readonly { slot: number; digest: string }[];
}

export interface RecoveryCodeRecord {
  setId: string;
  slot: number;
  digest: string;
  usedAt: Date | null;
}

/** A winning consume says what the set has left, so the caller needs no second read to tell the user. */
export type RecoveryCodeConsumption = WriteOutcome<'consumed', never, { remaining: number; total: number }>;

export interface RecoveryCodeSummary {
  setId: string;
  generatedAt: Date;
  total: number;
  remaining: number;
  lastUsedAt: Date | null;
}
