import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const root = join(import.meta.dirname, '../..');

/**
 * A fresh clone, as far as packaging can tell: the tracked sources and docs copied to a temp directory
 * with no dist/, and this repository's installed dependencies linked in (no registry here). The checks run
 * there, so they see what `npm pack` and `npm start` see, not this working tree's build.
 */
let clone: string;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

beforeAll(() => {
  clone = mkdtempSync(join(tmpdir(), 'sparekey-package-'));
  for (const entry of [
    'package.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'LICENSE',
    'README.md',
    'src',
    'scripts',
    'docs',
    'public',
    'resources',
  ])
    cpSync(join(root, entry), join(clone, entry), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'));
});

afterAll(() => {
  if (clone) rmSync(clone, { recursive: true, force: true });
});

describe('the npm package', () => {
  test('package.json: publishable, with a repository, prepare builds, start runs compiled JavaScript', () => {
    const pkg = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8'));
    expect(pkg.private).toBeUndefined();
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(clone, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(pkg.repository.url).toMatch(/^git\+https:\/\//);
    expect(pkg.scripts.prepare).toBe('npm run build');
    // Compiled JavaScript, with at most Node's own flags (docs/deployment.md: the memory flag).
    expect(pkg.scripts.start).toMatch(/^node (--[a-z-]+=\S+ )*dist\/main\.js$/);
    expect(pkg.scripts.prestart).toBe('node scripts/build-if-stale.mjs');
    expect(JSON.stringify(pkg.dependencies)).not.toContain('tsx');
  });

  test('on a fresh clone the prestart step compiles src/ once; then npm start serves from dist/', async () => {
    const first = spawnSync(process.execPath, ['scripts/build-if-stale.mjs'], {
      cwd: clone,
      encoding: 'utf8',
    });
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toContain('Compiling src/ to dist/');
    expect(existsSync(join(clone, 'dist/main.js'))).toBe(true);
    const again = spawnSync(process.execPath, ['scripts/build-if-stale.mjs'], {
      cwd: clone,
      encoding: 'utf8',
    });
    expect(again.status).toBe(0);
    expect(again.stderr).toBe('');

    const port = await freePort();
    const server: ChildProcess = spawn('npm', ['start', '--silent'], {
      cwd: clone,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(port),
        SPAREKEY_DATA_DIR: join(clone, 'data'),
        SPAREKEY_KDF_PROFILE: 'minimum',
      },
      stdio: 'ignore',
      detached: true,
    });
    try {
      let status = 0;
      for (let attempt = 0; attempt < 100 && status !== 200; attempt += 1) {
        status = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (response) => response.status,
          () => 0,
        );
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 150));
      }
      expect(status).toBe(200);
    } finally {
      // npm and the node it started form one process group of their own.
      if (server.pid) process.kill(-server.pid, 'SIGTERM');
    }
  }, 180_000);

  test('npm pack ships the compiled entry, bin, types, LICENSE and every file the README links to; no source maps', () => {
    const packed = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: clone,
      encoding: 'utf8',
    });
    expect(packed.status, packed.stderr).toBe(0);
    const files = new Set<string>(
      JSON.parse(packed.stdout)[0].files.map((file: { path: string }) => file.path),
    );
    for (const path of [
      'LICENSE',
      'README.md',
      'package.json',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      'dist/main.js',
      'resources/common-passwords.txt',
    ])
      expect(files.has(path), path).toBe(true);
    expect([...files].filter((path) => path.endsWith('.map'))).toEqual([]);
    expect([...files].filter((path) => path.startsWith('src/') || path.startsWith('test/'))).toEqual([]);
    const readme = readFileSync(join(clone, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)]
      .map((match) => match[1] as string)
      .filter((link) => !/^[a-z]+:/.test(link));
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) {
      const target = link.replace(/\/$/, '');
      const shipped = files.has(target) || [...files].some((path) => path.startsWith(`${target}/`));
      expect(shipped, link).toBe(true);
    }
  });

  test('the compiled entry point exports the library; its types include every result type; the bin runs', async () => {
    const entry = await import(pathToFileURL(join(clone, 'dist/index.js')).href);
    expect(typeof entry.createSpareKey).toBe('function');
    expect(entry.errorMessages.code_already_used).toMatch(/only once/);
    const types = readFileSync(join(clone, 'dist/index.d.ts'), 'utf8');
    for (const name of ['TotpEnrollment', 'RecoveryOutcome', 'RecoveryCodeStatus', 'MfaOverview', 'Result'])
      expect(types, name).toMatch(new RegExp(`\\b${name}\\b`));
    const version = spawnSync(process.execPath, [join(clone, 'dist/cli/main.js'), '--version'], {
      encoding: 'utf8',
    });
    expect(version.stdout.trim()).toBe(
      `sparekey ${JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')).version}`,
    );
  });
});
