import type { AuditEvent, AuditEventInput, SealedAuditEvent } from '../../core/audit.js';

/**
 * Audit: an append-only log, sealed into one hash chain (decision 0005). Appending takes no lock shared
 * with other users' transactions; one sealer at a time links committed events into the chain.
 */
export interface AuditStore {
  /** Inserts the event in the caller's transaction, not yet sealed (its chain fields are null). */
  appendAuditEvent(event: AuditEventInput): Promise<AuditEvent>;
  /** Inserts several events with one statement, numbered (seq) in the order given; none is sealed. */
  appendAuditEvents(events: readonly AuditEventInput[]): Promise<AuditEvent[]>;
  /** Newest first (by seq), sealed or not. */
  listAuditEvents(query: AuditQuery): Promise<AuditEvent[]>;
  /** Oldest first (by seq), after `afterSeq`, sealed or not: for streaming exports. */
  listAuditEventsAscending(query: AuditQuery & { afterSeq?: number }): Promise<AuditEvent[]>;
  /** Sealed events in chain order, after chain place `afterChainSeq`: for verifying the chain. */
  listSealedAuditEvents(query: { afterChainSeq?: number; limit: number }): Promise<SealedAuditEvent[]>;
  /** The chain place of the sealed event with this hash, if any (to name an event that was moved). */
  findAuditChainSeqByHash(hash: string): Promise<number | undefined>;
  getAuditChainHead(): Promise<AuditChainHead>;
  /** How many events are committed but not yet sealed, the oldest one's seq, and the newest seq. */
  getAuditSealingState(): Promise<AuditSealingState>;
  /**
   * One sealing round as `holder`: takes or renews the sealer lease (database time; fails while another
   * holder's lease runs) and, holding it, links up to `limit` committed unsealed events, by seq, into
   * the chain after its head, in one transaction with the head and the statistics' counters. A holder
   * whose lease was taken over writes nothing. `role: 'standby'` when another holder has the lease.
   */
  sealAuditEvents(input: { holder: string; leaseMs: number; limit: number }): Promise<AuditSealingRound>;
  /** Ends `holder`'s lease now (a graceful shutdown), so another instance takes over at once. */
  releaseAuditSealer(holder: string): Promise<void>;
  /**
   * Deletes the sealed events before `before` and anchors the chain at the first kept event (its chain
   * place and the hash it links to), so the rest stays verifiable. Returns how many went.
   */
  purgeAuditEventsBefore(before: Date): Promise<{ purged: number }>;
  /**
   * Events per action per UTC quarter hour: the counters the sealer keeps for sealed events plus the
   * events not yet sealed, read in one statement so an event being sealed is counted exactly once.
   * `from` and `to` (exclusive) are rounded down to quarter hours.
   */
  countAuditEventsByBucket(query: {
    actions: readonly string[];
    from: Date;
    to: Date;
  }): Promise<AuditBucketCount[]>;
}

export interface AuditChainHead {
  lastSeq: number;
  lastHash: string;
  anchorSeq: number;
  anchorHash: string;
}

export interface AuditSealingState {
  unsealed: number;
  oldestUnsealedSeq: number | null;
  newestSeq: number | null;
}

export interface AuditSealingRound {
  role: 'sealer' | 'standby';
  sealed: number;
  /** The newest sealed event's sealing lag (sealed at minus its time), ms; null when none was sealed. */
  lagMs: number | null;
}

export interface AuditBucketCount {
  bucketStart: Date;
  action: string;
  events: number;
}

export const AUDIT_BUCKET_MS = 15 * 60 * 1000;

export interface AuditQuery {
  userId?: string;
  action?: string;
  /** Inclusive lower bound. */
  since?: Date;
  /** Exclusive upper bound. */
  until?: Date;
  /** Only events with a smaller seq (keyset pagination). */
  beforeSeq?: number;
  limit: number;
}
