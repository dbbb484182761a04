import type { PurgedRecords } from '../../store/store.js';
import type { ServiceDeps } from '../deps.js';
import { forgettingThrottleKeys } from '../throttle/throttle-counters.js';
import { startPeriodic } from './periodic.js';

/** How long finished webhook deliveries stay in the admin console's delivery log. */
export const WEBHOOK_LOG_RETENTION_MS = 30 * 24 * 60 * 60_000;

/**
 * With the throttle counters in Redis, how long a lock's report is kept: the database cannot see whether
 * the lock still stands, and a lock standing after a year is reported (audited, emailed) once more.
 */
export const LOCK_REPORT_RETENTION_MS = 365 * 24 * 60 * 60_000;

/** How often a running server purges. */
export const PURGE_INTERVAL_MS = 60 * 60_000;

/**
 * Deletes what can no longer be used: expired sessions, emailed links and codes, remembered browsers past
 * their 30 days, throttle counters that no longer hold anything back, reports of locks that are over, webhook deliveries finished more
 * than 30 days ago, and the OpenID Connect provider's expired codes, sessions, grants and tokens and retired signing keys. Without it those tables only grow, and a client making up addresses or emails could
 * grow them at will. Audit events are kept: their retention is the operator's (the audit log's *Delete old events*).
 */
export async function purgeExpiredRecords(deps: ServiceDeps): Promise<PurgedRecords> {
  return deps.store.purgeExpired({
    at: deps.clock.now(),
    // With Redis counters the database's table is unused; purging it is harmless.
    throttleForgetting: forgettingThrottleKeys(deps),
    webhookLogRetentionMs: WEBHOOK_LOG_RETENTION_MS,
    lockReports: { countersInDatabase: !deps.attemptCounters, retentionMs: LOCK_REPORT_RETENTION_MS },
  });
}

/** The server's hourly purge; the returned function stops it (waiting for a run in progress). */
export function startPurgeWorker(
  deps: ServiceDeps,
  options: {
    intervalMs?: number;
    onPurged?: (purged: PurgedRecords) => void;
    onError?: (error: unknown) => void;
  },
): () => Promise<void> {
  return startPeriodic(
    async () => {
      const purged = await purgeExpiredRecords(deps);
      options.onPurged?.(purged);
    },
    { intervalMs: options.intervalMs ?? PURGE_INTERVAL_MS, onError: options.onError },
  );
}
