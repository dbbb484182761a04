import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';

/**
 * Issue 20: a backend's authority (service/sign-in/change-authority.ts `backendAuthority`) lets a protected
 * change skip the end user's step-up. Only the backend paths may make one: the API-key routes, the library and
 * the CLI. The pages and the session API (`/me/...`) get a StepUpProof from a step-up, or nothing.
 */
const srcDir = join(import.meta.dirname, '../../src');
const BACKEND_PATHS = [
  'library.ts',
  'library-security-keys.ts',
  'cli/',
  'http/routes/users-recovery-codes.ts',
  'http/routes/users-security-keys.ts',
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The edge files (outside service/) that name backendAuthority. */
function edgesMakingBackendAuthority(): string[] {
  return sourceFiles(srcDir)
    .map((path) => ({ path: relative(srcDir, path), source: readFileSync(path, 'utf8') }))
    .filter(({ path }) => !path.startsWith('service/'))
    .filter(({ source }) => /\bbackendAuthority\b/.test(source))
    .map(({ path }) => path);
}

describe('who may act with a backend authority', () => {
  test('only the backend paths make one; no page or session route does', () => {
    const edges = edgesMakingBackendAuthority();
    expect(edges.filter((path) => !BACKEND_PATHS.some((allowed) => path.startsWith(allowed)))).toEqual([]);
    // The check is live: the API-key routes and the library do make one.
    expect(edges).toEqual(expect.arrayContaining(['library.ts', 'http/routes/users-recovery-codes.ts']));
  });
});
