import { readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { inject } from 'vitest';

const repoRoot = join(import.meta.dirname, '../..');

/** Every source file the server, the CLI and the library are made of (tests excluded). */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/**
 * Compiles src/ to JavaScript once per test run, file by file like tsc (no bundling), so spawned servers
 * and CLIs start from plain JavaScript instead of compiling TypeScript again through tsx in every process.
 * The directory sits directly under the repository root, like dist/, so the sources' `../../public`,
 * `../../resources` and `../../package.json` paths resolve the same; one directory per run (pid) so runs
 * in the same checkout do not clash. Type checking is `npm run typecheck`'s job, not this build's.
 */
export async function buildCompiledSources(): Promise<{ dir: string; remove(): void }> {
  const dir = join(repoRoot, `.test-build-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  await build({
    entryPoints: sourceFiles(join(repoRoot, 'src')),
    outbase: join(repoRoot, 'src'),
    outdir: dir,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    bundle: false,
    sourcemap: 'inline',
    logLevel: 'error',
  });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The compiled JavaScript of a source file, e.g. compiledPath('main.js') or compiledPath('cli/main.js'). */
export function compiledPath(fromSrc: string): string {
  return join(inject('compiledSourcesDir'), fromSrc);
}

/** The same path relative to the repository root (for processes spawned with the root as cwd). */
export function compiledPathFromRoot(fromSrc: string): string {
  return relative(repoRoot, compiledPath(fromSrc));
}
