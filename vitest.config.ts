import { accessSync, constants, statfsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

type ProjectOptions = NonNullable<TestProjectInlineConfiguration['test']>;

/**
 * Test databases and scratch files in RAM. SQLite runs with synchronous=FULL, so on a disk every commit
 * waits for an fsync: that wait (about 7 ms a commit on the loaded 2-core CI machine) was most of the wall
 * time of the SQLite-backed files. On tmpfs the same SQLite, with the same pragmas, commits at once; a
 * killed process loses nothing either way (only a power cut would), so no test loses what it checks.
 * Set by the main process before the workers fork, so workers, the servers and CLIs they spawn and the
 * temporary checkouts all inherit it. SPAREKEY_TEST_TMPDIR overrides; without a writable tmpfs, unchanged.
 */
const TMPFS_MAGIC = 0x01021994;
function ramTempDir(): string | undefined {
  if (process.env.SPAREKEY_TEST_TMPDIR) return process.env.SPAREKEY_TEST_TMPDIR;
  try {
    accessSync('/dev/shm', constants.W_OK);
    return statfsSync('/dev/shm').type === TMPFS_MAGIC ? '/dev/shm' : undefined;
  } catch {
    return undefined;
  }
}
const tempDir = ramTempDir();
if (tempDir) process.env.TMPDIR = tempDir;

/**
 * Files that need a module graph of their own: `vi.mock` of a module other files import first
 * (src/core/totp.test.ts replaces node:crypto's timingSafeEqual to count the comparisons).
 */
const ISOLATED_FILES = ['src/core/totp.test.ts'];

/** What both projects share; each declares its own files (an inline project's include would add to the root's). */
const common: ProjectOptions = {
  // Also compiles src/ once per run, for the servers and CLIs tests spawn (test/helpers/compiled-build.ts).
  globalSetup: ['test/helpers/global-setup.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
  // Tests that share one PostgreSQL database use their own schemas, so files may run in parallel.
  pool: 'forks',
};

export default defineConfig({
  test: {
    // vitest's default is one worker fewer than the cores: on the 2-core CI machine that ran every file one
    // after another while most of them wait on Chromium, spawned servers, SMTP or PostgreSQL. One worker per
    // core (at least two) keeps both cores busy.
    maxWorkers: Math.max(2, availableParallelism()),
    projects: [
      {
        test: {
          ...common,
          name: 'shared',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ISOLATED_FILES,
          // One module graph per worker, reused from file to file: importing the sources, Fastify, Kysely
          // and oidc-provider again for every file was the largest single cost of the run. Each file still
          // builds its own databases, servers and SMTP.
          isolate: false,
        },
      },
      { test: { ...common, name: 'isolated', include: ISOLATED_FILES } },
    ],
  },
});
