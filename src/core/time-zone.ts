/**
 * Calendar boundaries in an IANA time zone ("used today", "this month" on the operator's dashboard),
 * with Intl only: no I/O, no clock. DST days have 23 or 25 hours; the boundaries are exact instants.
 */

export function isValidTimeZone(timeZone: string): boolean {
  // Every implementation of Intl knows UTC (ECMA-402). Building a formatter to check the default would
  // read about 5 MiB of ICU's locale and zone data into a server that may never format a date.
  if (timeZone === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
}

/** Building a formatter costs far more than using one: one per zone, reused. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

function localParts(
  at: Date,
  timeZone: string,
): LocalParts & { hour: number; minute: number; second: number } {
  const parts = formatterFor(timeZone).formatToParts(at);
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

/** The zone's offset from UTC at `at`, in ms (positive east of Greenwich). */
function offsetMs(at: Date, timeZone: string): number {
  const p = localParts(at, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - (at.getTime() - (at.getTime() % 1000));
}

/** The instant a local date's midnight happens in the zone. */
function localMidnight(date: LocalParts, timeZone: string): Date {
  const naive = Date.UTC(date.year, date.month - 1, date.day);
  // Two rounds settle the offset even when midnight is near a DST change.
  let guess = naive - offsetMs(new Date(naive), timeZone);
  guess = naive - offsetMs(new Date(guess), timeZone);
  return new Date(guess);
}

export function startOfDay(at: Date, timeZone: string): Date {
  return localMidnight(localParts(at, timeZone), timeZone);
}

export function startOfMonth(at: Date, timeZone: string): Date {
  const p = localParts(at, timeZone);
  return localMidnight({ year: p.year, month: p.month, day: 1 }, timeZone);
}

/** The local midnights of the `days` days ending with today's, oldest first, and the next midnight. */
export function lastDays(at: Date, timeZone: string, days: number): { starts: Date[]; end: Date } {
  const today = localParts(at, timeZone);
  const starts = Array.from({ length: days + 1 }, (_, index) => {
    const shifted = new Date(Date.UTC(today.year, today.month - 1, today.day - (days - 1) + index));
    return localMidnight(
      { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() },
      timeZone,
    );
  });
  return { starts: starts.slice(0, days), end: starts[days] as Date };
}

/** "2026-11-23" for the local date of `at`. */
export function localDateLabel(at: Date, timeZone: string): string {
  const p = localParts(at, timeZone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}
