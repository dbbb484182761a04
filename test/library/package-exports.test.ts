import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const root = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

test('package.json exports the library with its types and the sparekey bin, built from sources that exist', () => {
  expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
  expect(pkg.bin).toEqual({ sparekey: './dist/cli/main.js' });
  const source = (built: string) =>
    join(root, built.replace('./dist/', 'src/').replace(/\.(d\.ts|js)$/, '.ts'));
  for (const built of [pkg.exports['.'].types, pkg.exports['.'].import, pkg.bin.sparekey])
    expect(existsSync(source(built)), built).toBe(true);
  expect(readFileSync(join(root, 'src/cli/main.ts'), 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
  expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'public', 'resources']));
});
