import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  DEFAULT_ACCOUNT_THROTTLE,
  DEFAULT_ADDRESS_THROTTLE,
  DEFAULT_EMAIL_SEND_THROTTLE,
} from '../../src/core/throttle.js';

const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');

/** The default column of a row of the throttle table, by its first cell. */
function documentedDefault(setting: string): number {
  const row = doc.split('\n').find((line) => line.startsWith(`| ${setting} |`));
  const value = row?.split('|')[2]?.trim().match(/^\d+/)?.[0];
  if (!value) throw new Error(`docs/security.md has no default for "${setting}"`);
  return Number(value);
}

describe('docs/security.md states the throttling defaults the code has (STANDARDS req 51, ASVS 5.0 6.1.1)', () => {
  test('the account table', () => {
    expect(documentedDefault('Free failures before back-off')).toBe(DEFAULT_ACCOUNT_THROTTLE.freeFailures);
    expect(documentedDefault('First wait')).toBe(DEFAULT_ACCOUNT_THROTTLE.baseDelayMs / 1000);
    expect(documentedDefault('Longest wait')).toBe(DEFAULT_ACCOUNT_THROTTLE.maxDelayMs / 1000);
    expect(documentedDefault('Second factors lock after')).toBe(DEFAULT_ACCOUNT_THROTTLE.lockAfter);
  });

  test('the address and email limits in the text', () => {
    expect(doc).toContain(`with ${DEFAULT_ADDRESS_THROTTLE.freeFailures} free failures`);
    expect(doc).toContain(`at most ${DEFAULT_EMAIL_SEND_THROTTLE.freeFailures} emails`);
    expect(doc).toContain(`waits ${DEFAULT_EMAIL_SEND_THROTTLE.baseDelayMs / 60_000} minutes`);
  });

  test('every test named as proof exists', () => {
    const named = [...doc.matchAll(/`((?:test|src)\/[\w./-]+\.ts)`/g)].map((match) => match[1] as string);
    expect(named.length).toBeGreaterThan(20);
    const missing = named.filter((path) => !existsSync(new URL(`../../${path}`, import.meta.url)));
    expect(missing).toEqual([]);
  });
});
