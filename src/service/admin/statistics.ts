import { lastDays, localDateLabel, startOfDay, startOfMonth } from '../../core/time-zone.js';
import type { ServiceDeps } from '../deps.js';
import { loadRecoveryCodeSettings } from '../settings.js';

export interface DailyUse {
  /** The local date, e.g. 2026-11-23. */
  date: string;
  used: number;
  failed: number;
}

export interface RecoveryCodeStatistics {
  /** Users with at least one unused code. */
  usersWithCodes: number;
  /** Users with 0 < unused codes <= the low threshold. */
  lowOnCodes: number;
  lowThreshold: number;
  usedToday: number;
  usedThisMonth: number;
  failedToday: number;
  /** The last 30 days, oldest first, in the operator's time zone. */
  last30Days: DailyUse[];
  timeZone: string;
}

const USED = 'recovery_code_used';
const FAILED = 'recovery_code_failed';

/**
 * The dashboard's numbers. All of them come from counters maintained in the transactions that change
 * them (sets by `remaining`; audit events by quarter hour), so they are exact and cost the same with a
 * million users as with ten: at most a few thousand counter rows are read.
 */
export async function getRecoveryCodeStatistics(deps: ServiceDeps): Promise<RecoveryCodeStatistics> {
  const now = deps.clock.now();
  const timeZone = deps.options.timeZone;
  const [settings, setCounts] = await Promise.all([
    loadRecoveryCodeSettings(deps.store),
    deps.store.getRecoveryCodeSetCounts(),
  ]);
  const sum = (predicate: (remaining: number) => boolean) =>
    setCounts.filter((row) => predicate(row.remaining)).reduce((total, row) => total + row.sets, 0);

  const { starts, end } = lastDays(now, timeZone, 30);
  const monthStart = startOfMonth(now, timeZone);
  const from = new Date(Math.min(monthStart.getTime(), (starts[0] as Date).getTime()));
  const buckets = await deps.store.countAuditEventsByBucket({ actions: [USED, FAILED], from, to: end });
  const count = (action: string, since: Date, until: Date) =>
    buckets
      .filter((b) => b.action === action && b.bucketStart >= since && b.bucketStart < until)
      .reduce((total, b) => total + b.events, 0);

  const today = startOfDay(now, timeZone);
  return {
    usersWithCodes: sum((remaining) => remaining > 0),
    lowOnCodes: sum((remaining) => remaining > 0 && remaining <= settings.lowThreshold),
    lowThreshold: settings.lowThreshold,
    usedToday: count(USED, today, end),
    usedThisMonth: count(USED, monthStart, end),
    failedToday: count(FAILED, today, end),
    last30Days: starts.map((start, index) => {
      const next = starts[index + 1] ?? end;
      return {
        date: localDateLabel(start, timeZone),
        used: count(USED, start, next),
        failed: count(FAILED, start, next),
      };
    }),
    timeZone,
  };
}
