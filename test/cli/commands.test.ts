import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { compiledPath } from '../helpers/compiled-build.js';
import { freePort } from '../helpers/server-process.js';

/** The CLI (in this process) against a real SQLite database, configured by the environment like the server. */
function cli(dataDir: string, args: string[], stdin = '') {
  return runCliInProcess(args, { SPAREKEY_DATA_DIR: dataDir, SPAREKEY_KDF_PROFILE: 'minimum' }, stdin);
}

describe('the sparekey CLI', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'sparekey-cli-')), 'data');

  test('help, per-command help, and wrong usage (exit 2)', async () => {
    const help = await cli(dataDir, ['--help']);
    expect(help.status).toBe(0);
    for (const command of [
      'migrate',
      'user add',
      'user list',
      'user roles',
      'user email',
      'user delete',
      'mfa status',
      'mfa reset',
      'codes status',
      'stats',
      'audit export',
      'audit verify',
      'apikey create',
      'apikey revoke',
      'purge',
    ]) {
      expect(help.out).toContain(`sparekey ${command}`);
    }
    expect((await cli(dataDir, ['mfa', 'reset', '--help'])).out).toContain(
      'Usage: sparekey mfa reset (<email> | --external-id <id>) --reason',
    );
    expect((await cli(dataDir, ['frobnicate'])).status).toBe(2);
    expect((await cli(dataDir, ['stats', '--nope'])).status).toBe(2);
    expect((await cli(dataDir, ['audit', 'export', '--format', 'xml'])).status).toBe(2);
  });

  test('migrate, user add (password on stdin), roles, codes status, stats, mfa reset, apikey create/revoke, audit export', async () => {
    expect((await cli(dataDir, ['migrate'])).out).toMatch(/latest schema \(\d+ migrations\)/);
    const weak = await cli(dataDir, ['user', 'add', 'ops@example.test'], 'password\n');
    expect(weak.status).toBe(1);
    expect(weak.err).toContain('common or breached');
    const added = await cli(
      dataDir,
      ['user', 'add', 'ops@example.test', '--role', 'editor'],
      'granite-meadow-lantern-5\n',
    );
    expect(added.status, added.err).toBe(0);
    expect((await cli(dataDir, ['user', 'roles', 'ops@example.test', 'editor', 'author'])).out).toContain(
      'author, editor',
    );
    expect((await cli(dataDir, ['user', 'roles', 'ops@example.test', 'root'])).status).toBe(1);
    expect((await cli(dataDir, ['user', 'list'])).out).toBe('ops@example.test\tauthor,editor\tno codes\n');
    expect((await cli(dataDir, ['user', 'list', '--limit', 'x'])).status).toBe(2);
    expect((await cli(dataDir, ['codes', 'status', 'ops@example.test'])).out).toContain('no recovery codes');
    expect((await cli(dataDir, ['codes', 'status', 'nobody@example.test'])).status).toBe(1);
    expect((await cli(dataDir, ['stats'])).out).toContain('Users with codes:       0');
    expect((await cli(dataDir, ['mfa', 'reset', 'ops@example.test'])).status).toBe(1);
    expect((await cli(dataDir, ['mfa', 'reset', 'ops@example.test', '--reason', 'ticket 7'])).out).toContain(
      'Reset ops@example.test',
    );

    const key = await cli(dataDir, ['apikey', 'create', '--name', 'billing', '--scope', 'audit:read']);
    expect(key.status).toBe(0);
    expect(key.out.trim()).toMatch(/^sk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect((await cli(dataDir, ['apikey', 'create', '--name', 'x', '--scope', 'root'])).status).toBe(1);
    const id = key.out.trim().split('_')[1] as string;
    expect((await cli(dataDir, ['apikey', 'revoke', id])).status).toBe(0);
    expect((await cli(dataDir, ['apikey', 'revoke', id])).status).toBe(1);

    const exported = await cli(dataDir, ['audit', 'export', '--format', 'jsonl']);
    expect(exported.status).toBe(0);
    const actions = exported.out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'user_created',
        'roles_changed',
        'mfa_reset',
        'api_key_created',
        'api_key_revoked',
      ]),
    );
    expect(exported.err).toContain('done:');
    expect(exported.out).not.toContain('granite-meadow-lantern-5');
    expect((await cli(dataDir, ['audit', 'verify'])).status).toBe(0);
  });

  test('purge deletes what can no longer be used and prints the counts', async () => {
    expect((await cli(dataDir, ['migrate'])).status).toBe(0);
    const purged = await cli(dataDir, ['purge']);
    expect(purged.status).toBe(0);
    expect(purged.out).toMatch(/Expired sessions: +\d+/);
    expect(purged.out).toMatch(/Idle throttle counters: +\d+/);
  });

  test('the compiled bin: serve starts the server on the configured port and stops on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [compiledPath('cli/main.js'), 'serve'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SPAREKEY_DATA_DIR: dataDir, PORT: String(port) },
      stdio: 'ignore',
    });
    try {
      let status = 0;
      // A deadline rather than a count of tries: a start takes seconds on a busy 2-core machine.
      for (const deadline = Date.now() + 40_000; Date.now() < deadline && status !== 200; ) {
        status = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.status,
          () => 0,
        );
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 150));
      }
      expect(status).toBe(200);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 60_000);
});
