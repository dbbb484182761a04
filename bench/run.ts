/**
 * `npm run bench`: every benchmark in turn, each printing its figures against a baseline measured in the
 * same run. `npm run bench -- --quick` runs them at a small scale (a couple of minutes) for a quick check.
 */
import { spawnSync } from 'node:child_process';

const quick = process.argv.includes('--quick');
const quickEnv = quick ? { BENCH_QUICK: '1', BENCH_USERS: '20000', BENCH_EVENTS: '100000' } : {};
const benches = [
  'bench/verify-cost.ts',
  'bench/http-overhead.ts',
  'bench/forward-auth.ts',
  'bench/peer-better-auth.ts',
  'bench/admin-scale.ts',
  'bench/audit-scale-out.ts',
];
let failed = 0;
for (const bench of benches) {
  console.log(`\n=== ${bench}${quick ? ' (quick)' : ''} ===`);
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', bench], {
    stdio: 'inherit',
    env: { ...process.env, ...quickEnv },
  });
  if (run.status !== 0) failed++;
  console.log(`(${bench}: ${((Date.now() - started) / 1000).toFixed(0)} s)`);
}
process.exitCode = failed === 0 ? 0 : 1;
