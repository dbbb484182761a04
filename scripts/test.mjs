// `npm test`: the whole suite. The type check and the lint run beside vitest instead of before it (each
// prints its output when it ends); the run fails when any of the three fails. Arguments go to vitest.
import { spawn } from 'node:child_process';

function run(name, command, args, { capture }) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', (error) => {
      output += String(error);
    });
    child.on('close', (code) => {
      const passed = code === 0;
      if (capture) process.stdout.write(`\n${name}: ${passed ? 'passed' : 'FAILED'}\n${output}`);
      resolve({ name, passed });
    });
  });
}

const results = await Promise.all([
  run('npm run typecheck', 'npm', ['run', '--silent', 'typecheck'], { capture: true }),
  run('npm run lint', 'npm', ['run', '--silent', 'lint'], { capture: true }),
  run('vitest run', 'vitest', ['run', ...process.argv.slice(2)], { capture: false }),
]);
const failed = results.filter((result) => !result.passed).map((result) => result.name);
if (failed.length > 0) console.error(`\nnpm test failed: ${failed.join(', ')}`);
process.exitCode = failed.length > 0 ? 1 : 0;
