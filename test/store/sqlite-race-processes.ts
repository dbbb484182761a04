import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { inject } from 'vitest';
import { GO, type RaceResult, type RaceTask, READY } from './sqlite-race-protocol.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const worker = fileURLToPath(new URL('./sqlite-race-worker.ts', import.meta.url));

let bundled: Promise<string> | undefined;

/**
 * The worker and the sources it imports, bundled once per test file into plain JavaScript (dependencies
 * stay imports of node_modules), so each racing process starts Node and nothing else instead of compiling
 * TypeScript again through tsx. Written inside the run's compiled-sources directory, under the repository
 * root, so its imports resolve from the repository's node_modules; removed with that directory.
 */
function bundledWorker(): Promise<string> {
  bundled ??= (async () => {
    const outfile = join(
      inject('compiledSourcesDir'),
      'test-workers',
      `sqlite-race-worker-${process.pid}.mjs`,
    );
    await build({
      entryPoints: [worker],
      outfile,
      bundle: true,
      packages: 'external',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'error',
    });
    return outfile;
  })();
  return bundled;
}

/**
 * Runs one worker process per task against the same file. The start barrier: nobody is told "go" until
 * every worker has opened its store and printed "ready", so their operations really overlap.
 */
export async function runRacingProcesses(tasks: readonly RaceTask[]): Promise<RaceResult[]> {
  const script = await bundledWorker();
  const children = tasks.map((task) =>
    spawn(process.execPath, [script, JSON.stringify(task)], { cwd: repoRoot }),
  );
  let ready = 0;
  const outcomes = children.map(
    (child) =>
      new Promise<RaceResult>((resolve, reject) => {
        let stdout = '';
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        child.stdout.on('data', (chunk: Buffer) => {
          const before = stdout;
          stdout += chunk.toString();
          if (
            !before.includes(`${READY}\n`) &&
            stdout.includes(`${READY}\n`) &&
            ++ready === children.length
          ) {
            for (const each of children) each.stdin.end(`${GO}\n`);
          }
        });
        child.on('error', reject);
        child.on('exit', (code) => {
          const last = stdout.trim().split('\n').at(-1) ?? '';
          if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as RaceResult);
          else reject(new Error(`race worker exited with ${code}: ${stderr || stdout}`));
        });
      }),
  );
  try {
    return await Promise.all(outcomes);
  } finally {
    // A worker that failed before the barrier leaves the others waiting: closing stdin releases them.
    for (const child of children) child.stdin.end();
    await Promise.allSettled(outcomes);
  }
}
