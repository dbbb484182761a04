import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../../src/cli/run-cli.js';
import { runCliProcess } from '../helpers/cli-in-process.js';

/** The CLI in this process: what it prints and its exit code, with an environment of the test's own. */
async function cli(args: string[], env: NodeJS.ProcessEnv, stdin = '') {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runCli(
    args,
    { out: (text) => out.push(text), err: (text) => err.push(text), stdin: async () => stdin },
    env,
  );
  return { status, out: out.join('\n'), err: err.join('\n') };
}

const version = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')).version;
/** A PostgreSQL URL nothing listens on: any command that tried to open it would fail. */
const unreachable = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:1/sparekey',
  SPAREKEY_SECRET: Buffer.alloc(32, 7).toString('base64'),
};

describe('CLI usage', () => {
  const sqlite = {
    SPAREKEY_DATA_DIR: join(mkdtempSync(join(tmpdir(), 'sparekey-usage-')), 'data'),
    SPAREKEY_KDF_PROFILE: 'minimum',
  };

  test('--version, --help, serve --help and per-command help answer without opening the database', async () => {
    for (const flag of ['--version', '-v', 'version']) {
      expect(await cli([flag], unreachable)).toEqual({ status: 0, out: `sparekey ${version}`, err: '' });
    }
    const serveHelp = await cli(['serve', '--help'], unreachable);
    expect(serveHelp.status).toBe(0);
    expect(serveHelp.out).toMatch(/^Usage: sparekey serve\n/);
    expect((await cli(['--help'], unreachable)).out).toContain('sparekey serve');
    expect((await cli(['codes', 'status', '--help'], unreachable)).out).toContain(
      'Usage: sparekey codes status (<email> | --external-id <id>)',
    );
  });

  test('wrong usage exits 2 before anything is opened: missing or extra arguments, user roles with no role', async () => {
    for (const args of [
      ['codes', 'status'],
      ['user', 'add'],
      ['mfa', 'reset', '--reason', 'ticket 7'],
      ['apikey', 'revoke'],
      ['user', 'roles', 'ops@example.test'],
      ['stats', 'extra'],
      ['codes', 'status', 'a@example.test', 'b@example.test'],
      ['serve', 'now'],
      ['frobnicate'],
    ]) {
      const run = await cli(args, unreachable);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.err, args.join(' ')).toMatch(/Usage: sparekey|Unknown command/);
      expect(run.err, args.join(' ')).not.toContain('cannot open');
    }
  });

  test('no command generates or prints recovery codes: an operator resets, the user sets up again (decision 0013; STANDARDS req 9, 53)', async () => {
    const refused = await cli(['codes', 'regenerate', 'a@example.test'], unreachable);
    expect(refused.status).toBe(2);
    expect(refused.err).toMatch(/Unknown command/);
    const help = (await cli(['--help'], unreachable)).out;
    expect(help).toContain('sparekey mfa reset');
    expect(help).not.toMatch(/generate|regenerate/);
    // No command file reaches a use case that issues codes (generation, or a confirmation that issues the
    // first set): the source is the proof, as no output check can cover a command that does not exist yet.
    const commandsDir = join(import.meta.dirname, '../../src/cli/commands');
    const issuing =
      /generateRecoveryCodes|RecoveryCodeSet|confirmTotp|confirmEmailFactor|finishHostKeyRegistration/;
    const offenders = readdirSync(commandsDir).filter((name) =>
      issuing.test(readFileSync(join(commandsDir, name), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });

  test('user add refuses a role that does not exist, and creates nothing', async () => {
    const refused = await cli(
      ['user', 'add', 'ops@example.test', '--role', 'god'],
      sqlite,
      'granite-meadow-lantern-5\n',
    );
    expect(refused).toMatchObject({ status: 1, out: '' });
    expect(refused.err).toBe(
      'There is no role by that name: use one of the roles listed under Administration, Roles.',
    );
    expect((await cli(['user', 'list'], sqlite)).out).toBe('');
    const added = await cli(
      ['user', 'add', 'ops@example.test', '--role', 'editor'],
      sqlite,
      'granite-meadow-lantern-5\n',
    );
    expect(added.status, added.err).toBe(0);
    expect((await cli(['user', 'list'], sqlite)).out).toBe('ops@example.test\teditor\tno codes');
  });

  test('a database that cannot be opened is one sentence, without a stack trace or the URL credentials', async () => {
    const run = await cli(['stats'], {
      ...unreachable,
      DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/sparekey',
    });
    expect(run.status).toBe(1);
    expect(run.out).toBe('');
    expect(run.err).toMatch(
      /^SpareKey cannot open its database \(PostgreSQL at 127\.0\.0\.1:1\/sparekey\): .+\.$/,
    );
    expect(run.err).toContain('ECONNREFUSED');
    expect(run.err).not.toContain('\n');
    expect(run.err).not.toContain('hunter2');
  });

  // The one spawned smoke test of the real bin (compiled once per run by the global setup): the process
  // wrapper around runCli, its arguments, console and exit code.
  test('the bin: --version, and serve with an unreachable database exits 1 with the one sentence', () => {
    const shown = runCliProcess(['--version'], unreachable);
    expect(shown.status).toBe(0);
    expect(shown.out.trim()).toBe(`sparekey ${version}`);
    const serve = runCliProcess(['serve'], unreachable);
    expect(serve.status).toBe(1);
    // Other libraries may warn on standard error first (oidc-provider on Node 20); ours is one line, no stack.
    const lines = serve.err.trim().split('\n');
    expect(lines.at(-1)).toMatch(
      /^SpareKey cannot open its database \(PostgreSQL at 127\.0\.0\.1:1\/sparekey\): [^\n]+\.$/,
    );
    expect(serve.err).not.toMatch(/^\s+at /m);
  });
});
