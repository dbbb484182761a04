import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';

/**
 * ARCHITECTURE.md: edges receive use cases, never the store. The CLI neither imports anything under
 * src/store/ nor reaches `deps.store` (or any `.store`): what it reads comes from service functions.
 */
const srcDir = join(import.meta.dirname, '../../src');
const cliDir = join(srcDir, 'cli');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = sourceFiles(cliDir).map((path) => ({
  path,
  rel: relative(srcDir, path),
  source: readFileSync(path, 'utf8'),
}));

describe('the CLI is an edge over the use cases', () => {
  test('there are command files to check (one per command group under src/cli/commands/)', () => {
    expect(files.filter((file) => file.rel.startsWith('cli/commands/')).length).toBeGreaterThan(5);
  });

  test.each(files.map((file) => [file.rel, file] as const))(
    '%s imports nothing under src/store/',
    (_rel, file) => {
      const specifiers = [
        ...file.source.matchAll(/(?:import|export)[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/g),
      ]
        .map((match) => match[1] ?? match[2] ?? '')
        .filter((specifier) => specifier.startsWith('.'));
      for (const specifier of specifiers) {
        const target = relative(srcDir, join(file.path, '..', specifier));
        expect(target.startsWith('store/'), `${file.rel} imports ${specifier}`).toBe(false);
      }
    },
  );

  test.each(files.map((file) => [file.rel, file] as const))('%s never reaches deps.store', (_rel, file) => {
    const code = file.source.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '');
    expect(code, file.rel).not.toMatch(/\.store\b|\{\s*store\b|\bstore\s*[,}]/);
  });
});
