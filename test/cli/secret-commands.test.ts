import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseSealingKeys } from '../../src/core/sealing-key-ring.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';

function cli(env: Record<string, string>, args: string[]) {
  return runCliInProcess(args, { SPAREKEY_KDF_PROFILE: 'minimum', ...env });
}

function keyIds(file: string): string[] {
  const parsed = parseSealingKeys(readFileSync(file, 'utf8'));
  if ('problem' in parsed) throw new Error(parsed.problem);
  return parsed.keys.map((key) => key.id);
}

/** Issue 6.3: `sparekey secret rotate` on embedded SQLite writes a new key (0600) and re-seals; prune retires. */
describe('sparekey secret', () => {
  test('rotate adds a key to the data directory (0600), status names it current, prune drops idle keys', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'sparekey-secret-')), 'data');
    const env = { SPAREKEY_DATA_DIR: dataDir };
    const file = join(dataDir, 'sealing-keys');

    const first = await cli(env, ['secret', 'rotate']);
    expect(first.status, first.err).toBe(0);
    expect(first.out).toMatch(/Added sealing key [0-9a-f]{8}/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = await cli(env, ['secret', 'rotate']);
    expect(second.status, second.err).toBe(0);
    const ids = keyIds(file);
    expect(ids).toHaveLength(2);

    const status = await cli(env, ['secret', 'status']);
    expect(status.out).toContain(`${ids[0]}  current`);
    expect(status.out).toContain(`${ids[1]}  older`);
    // The output names keys by id only, never a key itself.
    for (const line of readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('#'))) {
      const material = line.split(' ')[0];
      if (material) expect(status.out + first.out + second.out).not.toContain(material);
    }

    const prune = await cli(env, ['secret', 'prune']);
    expect(prune.out).toContain('Removed 1 sealing keys; 1 kept.');
    expect(keyIds(file)).toEqual([ids[0]]);
  });

  test('with SPAREKEY_SEALING_KEYS: new-key prints a key, rotate re-seals under its first key, a bad list is refused', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'sparekey-secret-')), 'data');
    const fresh = await cli({ SPAREKEY_DATA_DIR: dataDir }, ['secret', 'new-key']);
    expect(fresh.out.trim()).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const env = { SPAREKEY_DATA_DIR: dataDir, SPAREKEY_SEALING_KEYS: fresh.out.trim() };
    const rotate = await cli(env, ['secret', 'rotate']);
    expect(rotate.status, rotate.err).toBe(0);
    expect(rotate.out).toMatch(/Re-sealed 0 TOTP seeds and 0 OpenID Connect signing keys under [0-9a-f]{8}/);
    const bad = await cli({ ...env, SPAREKEY_SEALING_KEYS: 'short' }, ['secret', 'status']);
    expect(bad.status).toBe(2);
    expect(bad.err).toContain('SPAREKEY_SEALING_KEYS must list keys newest first');
  });
});
