import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Also compiles src/ once per run, for the servers and CLIs tests spawn (test/helpers/compiled-build.ts).
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests that share one PostgreSQL database use their own schemas, so files may run in parallel.
    pool: 'forks',
    // vitest's default is one worker fewer than the cores: on the 2-core CI machine that ran every file one
    // after another while most of them wait on Chromium, spawned servers, SMTP or PostgreSQL. One worker per
    // core (at least two) keeps both cores busy.
    maxWorkers: Math.max(2, availableParallelism()),
  },
});
