import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { definePostgresContractPart, POSTGRES_CONTRACT_PARTS } from './postgres-contract-parts.js';

// The accounts part; the others run beside it in postgres-audit.contract.test.ts and
// postgres-operations.contract.test.ts.
definePostgresContractPart('accounts');

test('the PostgreSQL parts together run every block of the store contract, each once', () => {
  const source = readFileSync(
    new URL('../../src/store/contract/define-store-contract.ts', import.meta.url),
    'utf8',
  );
  const body = source.slice(source.indexOf('export function defineStoreContract'));
  const registered = [...body.matchAll(/\b(define\w+Contract)\(/g)]
    .map((match) => match[1])
    .filter((name) => name !== 'defineStoreContract')
    .sort();
  const inParts = Object.values(POSTGRES_CONTRACT_PARTS)
    .flatMap((part) => Object.keys(part))
    .sort();
  expect(registered.length).toBeGreaterThan(10);
  expect(inParts).toEqual(registered);
});
