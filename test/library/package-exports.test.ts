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

/** Values that need no name: strings, numbers, booleans, their literals, null, undefined, void. */
const PLAIN =
  ts.TypeFlags.StringLike |
  ts.TypeFlags.NumberLike |
  ts.TypeFlags.BooleanLike |
  ts.TypeFlags.Null |
  ts.TypeFlags.Undefined |
  ts.TypeFlags.Void;

/** The type checker over src/index.ts with the project's options (one program for the tests below). */
let checked: { checker: ts.TypeChecker; exports: ts.Symbol[] } | undefined;
function entryTypes() {
  if (checked) return checked;
  const tsconfig = ts.parseConfigFileTextToJson(
    'tsconfig.json',
    readFileSync(join(root, 'tsconfig.json'), 'utf8'),
  );
  const { options } = ts.convertCompilerOptionsFromJson(tsconfig.config.compilerOptions, root);
  const entryPath = join(root, 'src/index.ts');
  const program = ts.createProgram([entryPath], { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const entry = checker.getSymbolAtLocation(program.getSourceFile(entryPath) as ts.SourceFile);
  if (!entry) throw new Error('src/index.ts is not a module');
  checked = { checker, exports: checker.getExportsOfModule(entry) };
  return checked;
}

const resolveAlias = (checker: ts.TypeChecker, symbol: ts.Symbol) =>
  symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;

/** Each library method as [group.method, its call signature], from the exported SpareKey type. */
function libraryMethods(): [string, ts.Signature][] {
  const { checker, exports } = entryTypes();
  const spareKey = exports.find((symbol) => symbol.name === 'SpareKey');
  if (!spareKey) throw new Error('SpareKey is not exported');
  const groups = checker.getDeclaredTypeOfSymbol(resolveAlias(checker, spareKey)).getProperties();
  expect(groups.length).toBeGreaterThan(5);
  return groups.flatMap((group) =>
    checker
      .getTypeOfSymbol(group)
      .getProperties()
      .flatMap((method): [string, ts.Signature][] => {
        const [signature] = checker.getTypeOfSymbol(method).getCallSignatures();
        return signature ? [[`${group.name}.${method.name}`, signature]] : [];
      }),
  );
}

/**
 * Every library method's result, as the type checker sees it from src/index.ts: for a `Result`, the value of
 * success (failures are error codes); otherwise the answer itself. Each must be a type the entry exports by
 * name (an anonymous object of the same shape does not count), a standard type (string, Date, an async
 * generator) or an array of such, so a host can name what it gets. A method added without a named, exported
 * result fails here.
 */
function unnamedResults(): string[] {
  const { checker, exports } = entryTypes();
  const exportedNames = new Set(exports.map((symbol) => resolveAlias(checker, symbol).name));
  const standard = (type: ts.Type) =>
    (type.getSymbol()?.declarations ?? []).some((declaration) =>
      /node_modules/.test(declaration.getSourceFile().fileName),
    );
  const named = (type: ts.Type): boolean => {
    if (type.flags & PLAIN) return true;
    const symbol = type.aliasSymbol ?? type.getSymbol();
    if (symbol && exportedNames.has(symbol.name)) return true;
    if (checker.isArrayType(type))
      return named(checker.getTypeArguments(type as ts.TypeReference)[0] as ts.Type);
    return standard(type);
  };
  const succeeded = (answer: ts.Type): ts.Type[] =>
    (answer.isUnion() ? answer.types : [answer]).flatMap((part) => {
      const ok = part.getProperty('ok');
      if (!ok) return [part];
      const value = part.getProperty('value');
      const isSuccess = checker.typeToString(checker.getTypeOfSymbol(ok)) === 'true';
      return isSuccess && value ? [checker.getTypeOfSymbol(value)] : [];
    });
  const unnamed: string[] = [];
  for (const [name, signature] of libraryMethods()) {
    const answer = checker.getAwaitedType(signature.getReturnType()) ?? signature.getReturnType();
    if (named(answer)) continue;
    for (const value of succeeded(answer))
      if (!named(value)) unnamed.push(`${name}: ${checker.typeToString(value)}`);
  }
  return unnamed;
}

/**
 * The methods whose input names a user by SpareKey's id (`{ userId }`, or the id itself) but cannot name
 * them by the host's (`{ externalId }`): issue 21.1 wants none. Each input's type is asked whether an
 * object with `externalId` in place of `userId` is assignable to it.
 */
function methodsWithoutHostIds(): string[] {
  const { checker } = entryTypes();
  const missing: string[] = [];
  for (const [name, signature] of libraryMethods()) {
    const [input] = signature.getParameters();
    if (!input) continue;
    const type = checker.getTypeOfSymbol(input);
    const parts = type.isUnion() ? type.types : [type];
    const byUserId = parts.some((part) => part.getProperty('userId'));
    const byHostId = parts.some((part) => part.getProperty('externalId'));
    if (byUserId && !byHostId) missing.push(name);
  }
  return missing;
}

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

  test('every library method answers with a type the entry exports (issue 21.1)', () => {
    expect(unnamedResults()).toEqual([]);
  }, 60_000);

  test('every library method that takes { userId } also takes { externalId } (issue 21.1)', () => {
    expect(methodsWithoutHostIds()).toEqual([]);
  }, 60_000);

  test('the bin is the compiled CLI: a node script that prints the version', () => {
    const bin = built(pkg.bin.sparekey);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    const version = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(`sparekey ${pkg.version}`);
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'public', 'resources']));
  });
});
