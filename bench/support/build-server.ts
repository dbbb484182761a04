import { spawnSync } from 'node:child_process';

/**
 * Compiles src/ to dist/ when the sources are newer (what `npm start` does first): benchmarked servers run
 * the compiled JavaScript, as production does, not through the development loader, whose transpiler and
 * caches would add to their memory and startup.
 */
export function buildServer(): void {
  const run = spawnSync(process.execPath, ['scripts/build-if-stale.mjs'], { stdio: 'inherit' });
  if (run.status !== 0) throw new Error('could not compile src/ to dist/');
}
