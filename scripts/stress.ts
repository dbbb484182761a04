/**
 * `npm run stress`: the heavy versions of the scale-out, crash-safety, throttle and fuzz tests, then one
 * summary table of what they measured. Exits non-zero when vitest failed or when any row shows a double
 * accept, a lost audit event or a 5xx, even if a test's own assertions missed it.
 *
 * Files run one at a time: several start real server processes, and the crash test's kill timing means
 * little when another file's servers share the two cores. Extra arguments go to vitest (a file filter).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  formatStressTable,
  parseStressRows,
  type StressRow,
  stressRowFailed,
} from '../test/scale/stress-report.js';

const FILES = [
  'test/scale/crash-safety.test.ts',
  'test/scale/multi-process.test.ts',
  'test/scale/throttle-burst.test.ts',
  'test/scale/audit-sealer.test.ts',
  'test/scale/audit-sealer-postgres.test.ts',
  'test/store/sqlite-race.test.ts',
  'test/service/throttle.test.ts',
  'test/security/fuzz.test.ts',
  'test/security/fuzz-api.test.ts',
  'test/security/fuzz-account-pages.test.ts',
  'test/security/fuzz-mutations.test.ts',
];

/** The heavy load; each can be overridden from the environment (docs/security.md). */
const LOAD: Record<string, string> = {
  SPAREKEY_STRESS_CYCLES: '20',
  SPAREKEY_STRESS_REQUESTS: '1000',
  SPAREKEY_STRESS_BURST: '2000',
  SPAREKEY_STRESS_AUDIT_ACTIONS: '30000',
  SPAREKEY_STRESS_RACE_CONSUMES: '100',
  SPAREKEY_STRESS_RACE_CHARGES: '250',
  // Hostile input: one request per route per run, each refused one with a state snapshot around it.
  FUZZ_RUNS: '24',
  // Accepted requests with one change: 200 per route, over 20,000 in all (the test fails below that).
  FUZZ_MUTATIONS: '200',
  FUZZ_MIN_REQUESTS: '20000',
};

const workDir = mkdtempSync(join(tmpdir(), 'sparekey-stress-'));
const reportPath = join(workDir, 'rows.jsonl');
const resultsPath = join(workDir, 'vitest.json');
const load = Object.fromEntries(
  Object.entries(LOAD).map(([name, value]) => [name, process.env[name] ?? value]),
);
const started = Date.now();

const vitest = spawnSync(
  join('node_modules', '.bin', 'vitest'),
  [
    'run',
    '--no-file-parallelism',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${resultsPath}`,
    ...(process.argv.length > 2 ? process.argv.slice(2) : FILES),
  ],
  {
    stdio: 'inherit',
    // A stress run without PostgreSQL proves half of what it claims: it must fail, not skip.
    env: { ...process.env, ...load, SPAREKEY_REQUIRE_POSTGRES: '1', SPAREKEY_STRESS_REPORT: reportPath },
  },
);

/** Each test file's outcome from vitest's JSON report: "passed", or "FAILED (n of m tests)". */
function fileResults(): Map<string, string> {
  const results = new Map<string, string>();
  if (!existsSync(resultsPath)) return results;
  const report = JSON.parse(readFileSync(resultsPath, 'utf8')) as {
    testResults: { name: string; assertionResults: { status: string }[] }[];
  };
  for (const file of report.testResults) {
    const failed = file.assertionResults.filter((test) => test.status === 'failed').length;
    const total = file.assertionResults.length;
    const outcome =
      failed > 0 || total === 0 ? `FAILED (${failed} of ${total} tests)` : `passed (${total} tests)`;
    results.set(relative(process.cwd(), file.name), outcome);
  }
  return results;
}

const rows: StressRow[] = existsSync(reportPath) ? parseStressRows(readFileSync(reportPath, 'utf8')) : [];
const seconds = Math.round((Date.now() - started) / 1000);
const settings = Object.entries(load)
  .map(([name, value]) => `${name}=${value}`)
  .join(' ');
console.log(`\nnpm run stress: ${seconds} s (${settings})\n`);
console.log(formatStressTable(rows, fileResults()));
rmSync(workDir, { recursive: true, force: true });

const broken = rows.filter(stressRowFailed);
if (vitest.status !== 0 || broken.length > 0 || rows.length === 0) {
  console.error(
    `\nstress run FAILED: vitest exited with ${vitest.status ?? vitest.signal}; ` +
      `${broken.length} row(s) with double accepts, lost events or 5xx.`,
  );
  process.exit(1);
}
