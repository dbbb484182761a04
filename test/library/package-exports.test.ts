import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import type {
  ChainVerification,
  HostCeremony,
  KeyRegistrationFailure,
  MfaOverview,
  RecoveryCodeStatus,
  RecoveryOutcome,
  Result,
  SecurityKeyFailure,
  SecurityKeySummary,
  SpareKey,
  SpareKeyOptions,
  TotpEnrollment,
  WebauthnOptions,
} from '../../src/index.js';
import { compiledPath } from '../helpers/compiled-build.js';

const root = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8'));

/**
 * Where a path of the published package lands in this run's build of src/ (the global setup compiles src/
 * once, file for file, the layout tsconfig.build.json gives dist/): './dist/cli/main.js' -> cli/main.js.
 */
function built(published: string): string {
  expect(published, 'a path inside dist/').toMatch(/^\.\/dist\//);
  return compiledPath(published.replace(/^\.\/dist\//, ''));
}

/**
 * The types the package promises (every result type of the library's methods). Naming them here makes the
 * type check (`npm test` runs it) fail when the entry point stops exporting one of them.
 */
type PromisedTypes = [
  ChainVerification,
  MfaOverview,
  RecoveryCodeStatus,
  RecoveryOutcome,
  Result<unknown>,
  SpareKey,
  SpareKeyOptions,
  TotpEnrollment,
  HostCeremony<unknown>,
  KeyRegistrationFailure,
  SecurityKeyFailure,
  SecurityKeySummary,
  WebauthnOptions,
];

describe('the package entry point and bin, as package.json names them', () => {
  test('the import entry is the compiled library: exactly createSpareKey and the error catalog', async () => {
    expect(pkg.main).toBe(pkg.exports['.'].import);
    const entry = await import(pathToFileURL(built(pkg.exports['.'].import)).href);
    expect(Object.keys(entry).sort()).toEqual(['createSpareKey', 'errorMessages']);
    expect(typeof entry.createSpareKey).toBe('function');
    expect(entry.errorMessages.code_already_used).toMatch(/only once/);
  });

  test('the types entry is the declaration file tsc writes beside that entry, from the entry source', () => {
    expect(pkg.types).toBe(pkg.exports['.'].types);
    expect(pkg.exports['.'].types).toBe(pkg.exports['.'].import.replace(/\.js$/, '.d.ts'));
    // tsconfig.json is JSON with comments, read as tsc reads it.
    const tsconfig = ts.parseConfigFileTextToJson(
      'tsconfig.json',
      readFileSync(join(root, 'tsconfig.json'), 'utf8'),
    );
    const options = { ...tsconfig.config.compilerOptions };
    Object.assign(options, build.compilerOptions);
    expect(options.declaration).toBe(true);
    expect(options.outDir).toBe('dist');
    expect(options.rootDir).toBe('src');
    expect(existsSync(join(root, 'src/index.ts'))).toBe(true);
    const promised: PromisedTypes | undefined = undefined;
    expect(promised).toBeUndefined();
  });

  test('the bin is the compiled CLI: a node script that prints the version', () => {
    const bin = built(pkg.bin.sparekey);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    const version = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(`sparekey ${pkg.version}`);
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'public', 'resources']));
  });
});
