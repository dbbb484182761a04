import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';

/*
 * Issue 25 (an instance's memory): the server process runs with a capped V8 young generation. The flag is
 * set where the process is started: package.json's start script (`npm start`, and the audit bench, which
 * reads it), the systemd unit in docs/deployment.md, and the NODE_OPTIONS form that page gives for
 * `sparekey serve`. This keeps them the same.
 */

const root = new URL('../../', import.meta.url);
const startScript = (
  JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts.start as string;
const deployment = readFileSync(new URL('docs/deployment.md', root), 'utf8');
const main = readFileSync(new URL('src/main.ts', root), 'utf8');

describe('the server process flags (issue 25)', () => {
  const flags = startScript.match(/^node (.*) dist\/main\.js$/)?.[1] ?? '';

  test('npm start runs the compiled server with a capped young generation', () => {
    expect(flags).toMatch(/^--max-semi-space-size=\d+$/);
    expect(flags).not.toContain('--max-old-space-size');
  });

  test('the systemd unit and the sparekey serve advice in docs/deployment.md give the same flags', () => {
    expect(deployment).toContain(`ExecStart=/usr/bin/node ${flags} dist/main.js`);
    expect(deployment).toContain(`NODE_OPTIONS=${flags} sparekey serve`);
    // Every other mention of the command line carries the flags too.
    for (const line of deployment.split('\n').filter((text) => text.includes('dist/main.js'))) {
      expect(line).toContain(flags);
    }
  });

  test("the server entry (src/main.ts) caps the old generation's growth itself, so every way of running it gets it", () => {
    expect(main).toMatch(/const HEAP_GROWING_FLAG = '--heap-growing-percent=\d+';/);
    expect(main).toMatch(
      /async function main\(\): Promise<void> \{\n\s+setFlagsFromString\(HEAP_GROWING_FLAG\);/,
    );
    // Named where the deployment page explains the flags.
    expect(deployment).toContain(main.match(/--heap-growing-percent=\d+/)?.[0]);
  });
});
