import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCliInProcess } from '../helpers/cli-in-process.js';

/** The CLI against a real SQLite database, configured by the environment like the server. */
function cli(dataDir: string, args: string[]) {
  return runCliInProcess(args, { SPAREKEY_DATA_DIR: dataDir, SPAREKEY_KDF_PROFILE: 'minimum' });
}

/**
 * Issue 22, operating the provider from the command line: `sparekey oidc client add|list|rotate-secret|
 * disable|enable|remove`. The secret is printed once (stdout, for a script) and never again; wrong usage
 * exits 2 before anything changes, a refusal 1 with the catalog's words; every change is audited.
 */
describe('sparekey oidc client', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'sparekey-oidc-cli-')), 'data');
  const listed = async () => (await cli(dataDir, ['oidc', 'client', 'list'])).out;

  test('wrong usage exits 2 and registers nothing', async () => {
    expect((await cli(dataDir, ['migrate'])).status).toBe(0);
    const usages: string[][] = [
      ['oidc', 'client', 'add', '--redirect-uri', 'https://a.example.test/cb'],
      ['oidc', 'client', 'add', '--name', 'Grafana'],
      [
        'oidc',
        'client',
        'add',
        '--name',
        'Grafana',
        '--redirect-uri',
        'https://a.test/cb',
        '--kind',
        'trusted',
      ],
      [
        'oidc',
        'client',
        'add',
        '--name',
        'Grafana',
        '--redirect-uri',
        'https://a.test/cb',
        '--secret',
        'mine',
      ],
      ['oidc', 'client', 'add', 'Grafana'],
      ['oidc', 'client', 'rotate-secret'],
      ['oidc', 'client', 'disable', 'app_a', 'app_b'],
      ['oidc', 'client', 'remove'],
      ['oidc', 'client'],
      ['oidc', 'client', 'rename', 'app_a'],
    ];
    for (const args of usages) {
      const run = await cli(dataDir, args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.err, args.join(' ')).toMatch(/Usage|Unknown command/);
    }
    expect(await listed()).toBe('');
    const help = await cli(dataDir, ['oidc', 'client', 'add', '--help']);
    expect(help.status).toBe(0);
    expect(help.out).toContain('Usage: sparekey oidc client add --name <name> --redirect-uri <uri>...');
    expect((await cli(dataDir, ['--help'])).out).toContain('sparekey oidc client rotate-secret <client-id>');
  });

  test('add prints the id and the secret once; list never shows it; rotate, disable, enable, remove; all audited', async () => {
    expect((await cli(dataDir, ['migrate'])).status).toBe(0);
    const refused = await cli(dataDir, [
      'oidc',
      'client',
      'add',
      '--name',
      'Wiki',
      '--redirect-uri',
      'http://wiki.example.test/cb',
    ]);
    expect(refused.status).toBe(1);
    expect(refused.err).toContain('https');
    const added = await cli(dataDir, [
      'oidc',
      'client',
      'add',
      '--name',
      'Grafana',
      '--redirect-uri',
      'https://grafana.example.test/login/generic_oauth',
      '--post-logout-uri',
      'https://grafana.example.test/',
      '--scope',
      'openid',
      '--scope',
      'email',
      '--scope',
      'groups',
      '--first-party',
      '--two-factor-required',
    ]);
    expect(added.status, added.err).toBe(0);
    const id = added.out.match(/^client_id=(app_[\w-]+)$/m)?.[1] as string;
    const secret = added.out.match(/^client_secret=(sks_[\w-]{43})$/m)?.[1] as string;
    expect(id).toBeDefined();
    expect(secret).toBeDefined();
    expect(added.err).toContain('not shown again');
    expect(await listed()).toBe(
      `${id}\tGrafana\tconfidential\tenabled\ttwo-factor required\tfirst-party\topenid email groups\thttps://grafana.example.test/login/generic_oauth\n`,
    );

    const pub = await cli(dataDir, [
      'oidc',
      'client',
      'add',
      '--name',
      'SPA',
      '--kind',
      'public',
      '--redirect-uri',
      'http://127.0.0.1:5173/cb',
    ]);
    expect(pub.status).toBe(0);
    expect(pub.out).not.toContain('client_secret');
    const pubId = pub.out.match(/^client_id=(app_[\w-]+)$/m)?.[1] as string;
    const noSecret = await cli(dataDir, ['oidc', 'client', 'rotate-secret', pubId]);
    expect(noSecret.status).toBe(1);
    expect(noSecret.err).toContain('public application has no secret');

    const rotated = await cli(dataDir, ['oidc', 'client', 'rotate-secret', id]);
    expect(rotated.status).toBe(0);
    const second = rotated.out.match(/^client_secret=(sks_[\w-]{43})$/m)?.[1];
    expect(second).toBeDefined();
    expect(second).not.toBe(secret);

    expect((await cli(dataDir, ['oidc', 'client', 'disable', id])).out).toBe(`Disabled ${id}.\n`);
    expect(await listed()).toContain(`${id}\tGrafana\tconfidential\tdisabled`);
    expect((await cli(dataDir, ['oidc', 'client', 'enable', id])).status).toBe(0);
    expect(await listed()).toContain(`${id}\tGrafana\tconfidential\tenabled`);
    expect((await cli(dataDir, ['oidc', 'client', 'remove', id])).out).toBe(`Removed ${id}.\n`);
    const again = await cli(dataDir, ['oidc', 'client', 'remove', id]);
    expect(again.status).toBe(1);
    expect(again.err).toContain('not found');
    expect(await listed()).not.toContain(id);

    const exported = (await cli(dataDir, ['audit', 'export', '--format', 'jsonl'])).out;
    for (const text of [secret, second as string]) expect(exported).not.toContain(text);
    // One JSON object per line; `details` is the event's details as JSON text.
    const events = exported
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { action: string; actorId: string; details: string })
      .filter((event) => (JSON.parse(event.details) as { client_id?: string }).client_id === id);
    expect(events.map((event) => event.action)).toEqual([
      'oidc_client_registered',
      'oidc_client_secret_rotated',
      'oidc_client_disabled',
      'oidc_client_enabled',
      'oidc_client_deleted',
    ]);
    for (const event of events) expect(event.actorId).toBe('cli');
  });
});
