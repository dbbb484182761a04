import { describe, expect, test } from 'vitest';
import { openRedirectSpellings } from '../../test/helpers/open-redirect-spellings.js';
import { isUnderProtectedDomain, safeReturnAddress } from './return-address.js';

const policy = { domains: ['example.com'], ownOrigin: 'https://auth.example.com' };

// STANDARDS req. 61 (ASVS 4.0.3 5.1.5, RFC 9700 4.11): no open redirect, whatever the spelling.
describe('return addresses: no open redirect', () => {
  const spellings = openRedirectSpellings('example.com');
  test('the table holds at least 20 spellings', () => {
    expect(spellings.length).toBeGreaterThanOrEqual(20);
  });
  test.each(spellings.map((spelling) => [spelling.name, spelling.address] as const))(
    'refuses %s',
    (_name, address) => {
      expect(safeReturnAddress(address, policy)).toBeUndefined();
    },
  );
  test('refuses an address longer than 2048 characters, even on a protected host', () => {
    expect(safeReturnAddress(`https://app.example.com/${'a'.repeat(2048)}`, policy)).toBeUndefined();
  });
});

describe('return addresses: what is accepted', () => {
  test.each([
    ['https://app.example.com/dashboard?tab=1#top', 'https://app.example.com/dashboard?tab=1#top'],
    ['https://example.com', 'https://example.com/'],
    ['https://a.b.example.com:8443/x', 'https://a.b.example.com:8443/x'],
    ['HTTPS://App.Example.COM/Path', 'https://app.example.com/Path'],
    ['https://auth.example.com/settings', 'https://auth.example.com/settings'],
    ['/settings/two-factor', '/settings/two-factor'],
    ['/%5Cevil.test', '/%5Cevil.test'],
  ])('%s', (address, expected) => {
    expect(safeReturnAddress(address, policy)).toBe(expected);
  });

  test('SpareKey itself when no domain is protected, and nothing else', () => {
    const alone = { domains: [], ownOrigin: 'https://auth.example.com' };
    expect(safeReturnAddress('https://auth.example.com/x', alone)).toBe('https://auth.example.com/x');
    expect(safeReturnAddress('https://app.example.com/x', alone)).toBeUndefined();
  });

  test('plain http only for localhost names (secure contexts), never elsewhere', () => {
    const local = { domains: ['sparekey.localhost'], ownOrigin: 'http://auth.sparekey.localhost:8080' };
    expect(safeReturnAddress('http://app.sparekey.localhost:8080/', local)).toBe(
      'http://app.sparekey.localhost:8080/',
    );
    expect(safeReturnAddress('http://app.example.com/', policy)).toBeUndefined();
  });

  test('a protected domain covers itself and its subdomains only', () => {
    expect(isUnderProtectedDomain('example.com', ['example.com'])).toBe(true);
    expect(isUnderProtectedDomain('x.y.example.com', ['example.com'])).toBe(true);
    expect(isUnderProtectedDomain('badexample.com', ['example.com'])).toBe(false);
    expect(isUnderProtectedDomain('example.com.evil.test', ['example.com'])).toBe(false);
  });
});
