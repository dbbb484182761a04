import { describe, expect, test } from 'vitest';
import { isValidTimeZone, lastDays, localDateLabel, startOfDay, startOfMonth } from './time-zone.js';

describe('calendar boundaries in a time zone', () => {
  test('UTC and a fixed offset', () => {
    const at = new Date('2026-11-23T01:30:00Z');
    expect(startOfDay(at, 'UTC').toISOString()).toBe('2026-11-23T00:00:00.000Z');
    // 01:30 UTC is still the 22nd in New York (UTC-5 in November).
    expect(startOfDay(at, 'America/New_York').toISOString()).toBe('2026-11-22T05:00:00.000Z');
    expect(startOfMonth(at, 'Asia/Kolkata').toISOString()).toBe('2026-10-31T18:30:00.000Z');
    expect(localDateLabel(at, 'Asia/Tokyo')).toBe('2026-11-23');
  });

  test('a DST change: the day has 23 hours and both ends are exact', () => {
    // Europe/Berlin springs forward on 2026-03-29.
    const { starts, end } = lastDays(new Date('2026-03-29T12:00:00Z'), 'Europe/Berlin', 2);
    expect(starts.map((d) => d.toISOString())).toEqual([
      '2026-03-27T23:00:00.000Z',
      '2026-03-28T23:00:00.000Z',
    ]);
    expect(end.toISOString()).toBe('2026-03-29T22:00:00.000Z');
  });

  test('names are checked', () => {
    expect(isValidTimeZone('Europe/Paris')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});
