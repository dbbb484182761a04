import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The verification recipes of docs/webhooks.md, run as a receiver would run them: the fenced code is
 * taken from the document itself, so a wrong document fails the tests (a copy of it in a test would not).
 */

const doc = readFileSync(new URL('../../docs/webhooks.md', import.meta.url), 'utf8');
const run = promisify(execFile);

/** The fenced block of docs/webhooks.md in `language` whose code contains `marker`. */
export function documentedSnippet(language: string, marker: string): string {
  const blocks = [...doc.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)];
  const found = blocks.find((block) => block[1] === language && block[2]?.includes(marker));
  if (!found?.[2]) throw new Error(`docs/webhooks.md has no \`\`\`${language} block with ${marker}`);
  return found[2];
}

export interface RecipeCase {
  secret: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  nowSeconds: number;
}

/**
 * Calls the document's `verifySpareKeyWebhook` in a plain `node` child process (no TypeScript, no test
 * runner: what a receiver has) for each case, with the body as the raw bytes it received.
 */
export async function runNodeRecipe(cases: RecipeCase[]): Promise<boolean[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sparekey-recipe-'));
  try {
    writeFileSync(join(dir, 'recipe.mjs'), documentedSnippet('js', 'verifySpareKeyWebhook'));
    writeFileSync(
      join(dir, 'cases.json'),
      JSON.stringify(cases.map((c) => ({ ...c, body: c.body.toString('base64') }))),
    );
    writeFileSync(
      join(dir, 'driver.mjs'),
      `import { readFileSync } from 'node:fs';
import { verifySpareKeyWebhook } from './recipe.mjs';
const cases = JSON.parse(readFileSync('cases.json', 'utf8'));
const results = cases.map((c) => verifySpareKeyWebhook(c.secret, c.headers, Buffer.from(c.body, 'base64'), c.nowSeconds));
process.stdout.write(JSON.stringify(results));
`,
    );
    const { stdout } = await run(process.execPath, ['driver.mjs'], { cwd: dir });
    const results = JSON.parse(stdout) as unknown[];
    // Anything but a boolean (a truthy string, undefined) is a broken recipe, not an acceptance.
    if (!results.every((r) => typeof r === 'boolean')) throw new Error(`recipe returned ${stdout}`);
    return results as boolean[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const opensslAvailable = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * Runs the document's shell recipe with `sh` and openssl for one captured request: TIMESTAMP, SIGNATURE
 * and SECRET in the environment, the raw body in ./body.json. True when it prints `valid`.
 */
export async function runShellRecipe(c: Omit<RecipeCase, 'nowSeconds'>): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'sparekey-recipe-sh-'));
  try {
    writeFileSync(join(dir, 'body.json'), c.body);
    const { stdout } = await run('sh', ['-c', documentedSnippet('sh', 'openssl dgst')], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        TIMESTAMP: String(c.headers['sparekey-webhook-timestamp']),
        SIGNATURE: String(c.headers['sparekey-webhook-signature']),
        SECRET: c.secret,
      },
    });
    const verdict = stdout.trim();
    if (verdict !== 'valid' && verdict !== 'INVALID') throw new Error(`shell recipe printed ${stdout}`);
    return verdict === 'valid';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
