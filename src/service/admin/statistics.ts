import { lastDays, localDateLabel, startOfDay, startOfMonth } from '../../core/time-zone.js';
import type { FactorKind } from '../../store/store.js';
import type { ServiceDeps } from '../deps.js';
import { type ApplicationSignIns, signInsPerApplication } from '../oidc/sign-in-statistics.js';
import { loadRecoveryCodeSettings } from './settings.js';

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
  /** Confirmed second factors by kind (authenticator app, email, security key), and how many users have each. */
  factorsByKind: { kind: FactorKind; factors: number; users: number }[];
  /** Sign-ins through each registered application (OpenID Connect), today and in the last 30 days. */
  signInsByApplication: ApplicationSignIns[];
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
  const [settings, setCounts, factorsByKind, signInsByApplication] = await Promise.all([
    loadRecoveryCodeSettings(deps.store),
    deps.store.getRecoveryCodeSetCounts(),
    deps.store.countFactorsByKind(),
    signInsPerApplication(deps),
  ]);
  const sum = (predicate: (remaining: number) => boolean) =>
    setCounts.filter((row) => predicate(row.remaining)).reduce((total, row) => total + row.sets, 0);

  const { starts, end } = lastDays(now, timeZone, 30);
  const monthStart = startOfMonth(now, timeZone);
  const from = new Date(Math.min(monthStart.getTime(), (starts[0] as Date).getTime()));
  const buckets = await deps.store.countAuditEventsByBucket({ actions: [USED, FAILED], from, to: end });

  // One pass over the buckets (a few thousand): each lands in its local day, and in today and this month.
  const dayStarts = starts.map((start) => start.getTime());
  const used = new Array<number>(dayStarts.length).fill(0);
  const failed = new Array<number>(dayStarts.length).fill(0);
  const todayStart = startOfDay(now, timeZone).getTime();
  let usedThisMonth = 0;
  let usedToday = 0;
  let failedToday = 0;
  for (const bucket of buckets) {
    const at = bucket.bucketStart.getTime();
    const isUse = bucket.action === USED;
    if (isUse && at >= monthStart.getTime()) usedThisMonth += bucket.events;
    if (at >= todayStart) {
      if (isUse) usedToday += bucket.events;
      else failedToday += bucket.events;
    }
    const day = dayIndex(dayStarts, at);
    if (day >= 0) {
      const series = isUse ? used : failed;
      series[day] = (series[day] as number) + bucket.events;
    }
  }
  return {
    usersWithCodes: sum((remaining) => remaining > 0),
    lowOnCodes: sum((remaining) => remaining > 0 && remaining <= settings.lowThreshold),
    lowThreshold: settings.lowThreshold,
    usedToday,
    usedThisMonth,
    failedToday,
    last30Days: starts.map((start, index) => ({
      date: localDateLabel(start, timeZone),
      used: used[index] as number,
      failed: failed[index] as number,
    })),
    timeZone,
    factorsByKind,
    signInsByApplication,
  };
}

/** The index of the last day start at or before `at` (binary search), or -1 before the first. */
function dayIndex(dayStarts: readonly number[], at: number): number {
  let low = 0;
  let high = dayStarts.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if ((dayStarts[middle] as number) <= at) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}
