import type {
  AttemptKind,
  ChargeVerdict,
  SettleMode,
  ThrottlePolicy,
  ThrottleState,
} from '../../core/throttle.js';
import type { WriteOutcome } from '../write-outcome.js';

/**
 * Reports of second-factor locks (the throttle counters themselves are `AttemptCounters`, below). Always in
 * the database, even with Redis counters: a report must commit with its audit event and webhook outbox row.
 */
export interface LockReportsStore {
  /**
   * Claims the report of the lock of `key` made at `lockedAt` (epoch ms) with one conditional insert: of
   * concurrent claimers, in any process, exactly one gets `claimed: true`, and only once per lock. Call it
   * in the transaction that writes the report, so a report and its claim commit or vanish together.
   */
  claimLockReport(key: string, lockedAt: number, at: Date): Promise<WriteOutcome<'claimed'>>;
  /** Whether the lock of `key` made at `lockedAt` has been reported (a plain read, for the common case). */
  isLockReported(key: string, lockedAt: number): Promise<boolean>;
}

/**
 * Failed-attempt counters, one per key (see core/throttle.ts). Each method decides and writes in one atomic
 * step under the key's lock, so counters shared by many processes cannot be raced. The database stores
 * implement it; so does the optional Redis implementation (src/store/redis/).
 */
export interface AttemptCounters {
  /** Charges one attempt before it is evaluated; refuses it (without a write) when blocked or locked. */
  chargeAttempt(key: string, policy: ThrottlePolicy, kind: AttemptKind, at: Date): Promise<ChargeVerdict>;
  /** A charged attempt succeeded: the key starts over, or gets back that one charge (core/throttle.ts). */
  settleAttempt(key: string, policy: ThrottlePolicy, mode: SettleMode, at: Date): Promise<void>;
  /** Forgets the key (an administrator's reset, an unlock). */
  clearAttempts(key: string): Promise<void>;
  findAttempts(key: string): Promise<ThrottleState | undefined>;
  /** Releases a connection of its own (Redis); the database stores close with the store. */
  close?(): Promise<void>;
}
