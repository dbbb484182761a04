import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { OWASP_ARGON2ID_PARAMS } from '../../src/core/recovery-code-digest.js';
import { compiledPath } from '../helpers/compiled-build.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'sparekey-config-'));
const goodSecret = Buffer.alloc(32, 9).toString('base64');

describe('loadConfig', () => {
  test('zero configuration: SQLite in the data directory, OWASP argon2id, a generated 0600 secret', () => {
    const dir = tempDir();
    const result = loadConfig({ SPAREKEY_DATA_DIR: dir });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.config.database).toEqual({ kind: 'sqlite', path: join(dir, 'sparekey.db') });
    expect(result.config.port).toBe(3000);
    expect(result.config.kdfParams).toEqual(OWASP_ARGON2ID_PARAMS);
    expect(result.config.serverSecretSource).toBe('generated');
    const secretFile = join(dir, 'secret.key');
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(secretFile, 'utf8').trim(), 'base64')).toHaveLength(32);
    // The second start reads the same secret back.
    const again = loadConfig({ SPAREKEY_DATA_DIR: dir });
    expect(again.ok && again.config.serverSecretSource).toBe('data-dir');
    expect(
      again.ok && Buffer.from(again.config.serverSecret).equals(Buffer.from(result.config.serverSecret)),
    ).toBe(true);
  });

  test('PORT and DATABASE_URL are honoured; PostgreSQL needs a shared SPAREKEY_SECRET', () => {
    const env = { SPAREKEY_DATA_DIR: tempDir(), PORT: '4123', DATABASE_URL: 'postgres://u@db:5432/sk' };
    const missing = loadConfig(env);
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.problems.join()).toMatch(/SPAREKEY_SECRET is required with DATABASE_URL/);
    const result = loadConfig({ ...env, SPAREKEY_SECRET: goodSecret });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.config.port).toBe(4123);
    expect(result.config.database).toMatchObject({
      kind: 'postgres',
      url: 'postgres://u@db:5432/sk',
      poolSize: 10,
    });
    expect(result.config.serverSecretSource).toBe('environment');
  });

  test('every problem is reported at once, in words', () => {
    const result = loadConfig({
      SPAREKEY_DATA_DIR: tempDir(),
      PORT: 'eighty',
      SPAREKEY_KDF_PROFILE: 'fast',
      SPAREKEY_TOTP_WINDOW: '5',
      SPAREKEY_TOTP_DIGITS: '5',
      SPAREKEY_EMAIL_OTP_TTL_SECONDS: '3600',
      SPAREKEY_SECRET: 'too-short',
      SPAREKEY_ISSUER: 'Acme: Login',
    });
    expect(result.ok).toBe(false);
    const text = !result.ok ? result.problems.join('\n') : '';
    expect(text).toMatch(/PORT must be a whole number/);
    expect(text).toMatch(/SPAREKEY_KDF_PROFILE/);
    expect(text).toMatch(/SPAREKEY_TOTP_WINDOW/);
    expect(text).toMatch(/TOTP settings: .*digit/i);
    expect(text).toMatch(/10 minutes at most/);
    expect(text).toMatch(/SPAREKEY_ISSUER must not contain a colon/);
  });

  test('a short SPAREKEY_SECRET is refused', () => {
    const result = loadConfig({
      SPAREKEY_DATA_DIR: tempDir(),
      SPAREKEY_SECRET: Buffer.alloc(16).toString('base64'),
    });
    expect(!result.ok && result.problems.join()).toMatch(/at least 32 random bytes/);
  });

  test('the strict ASVS 5 TOTP windows are expressible', () => {
    const dir = tempDir();
    const past = loadConfig({ SPAREKEY_DATA_DIR: dir, SPAREKEY_TOTP_WINDOW: 'past' });
    const none = loadConfig({ SPAREKEY_DATA_DIR: dir, SPAREKEY_TOTP_WINDOW: '0' });
    expect(past.ok && past.config.totp.window).toEqual({ past: 1, future: 0 });
    expect(none.ok && none.config.totp.window).toEqual({ past: 0, future: 0 });
  });

  test('first administrator, public URL, notifications and proxy settings', () => {
    const base = { SPAREKEY_DATA_DIR: tempDir(), SPAREKEY_SECRET: goodSecret };
    const defaults = loadConfig(base);
    if (!defaults.ok) throw new Error(defaults.problems.join('\n'));
    expect(defaults.config.admin).toBeNull();
    expect(defaults.config.publicUrl).toBe('http://127.0.0.1:3000');
    // Notices need a relay: off without SPAREKEY_SMTP_URL, on with one.
    expect(defaults.config.notifications).toBe(false);
    expect(defaults.config.trustProxy).toBe(false);
    const full = loadConfig({
      ...base,
      SPAREKEY_ADMIN_EMAIL: 'owner@example.test',
      SPAREKEY_ADMIN_PASSWORD: 'violet-canyon-ledger-42',
      SPAREKEY_PUBLIC_URL: 'https://2fa.example.com/ignored/path',
      SPAREKEY_SMTP_URL: 'smtp://relay.example.com:587',
      SPAREKEY_TRUST_PROXY: 'on',
    });
    if (!full.ok) throw new Error(full.problems.join('\n'));
    expect(full.config.admin).toEqual({ email: 'owner@example.test', password: 'violet-canyon-ledger-42' });
    expect(full.config.publicUrl).toBe('https://2fa.example.com');
    expect(full.config.notifications).toBe(true);
    expect(full.config.trustProxy).toBe(true);
    const broken = loadConfig({
      ...base,
      SPAREKEY_ADMIN_EMAIL: 'owner@example.test',
      SPAREKEY_PUBLIC_URL: 'ftp://nope',
      SPAREKEY_NOTIFICATIONS: 'maybe',
    });
    expect(broken.ok).toBe(false);
    const problems = !broken.ok ? broken.problems.join('\n') : '';
    expect(problems).toContain('Set both SPAREKEY_ADMIN_EMAIL and SPAREKEY_ADMIN_PASSWORD');
    expect(problems).toContain('SPAREKEY_PUBLIC_URL must be an http(s) address');
    expect(problems).toContain('SPAREKEY_NOTIFICATIONS must be "on" or "off"');
  });
});

describe('a damaged sealing-key file in the data directory', () => {
  const damagedDir = () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'sealing-keys'), 'not a key\n', { mode: 0o600 });
    return dir;
  };

  test('is a configuration problem that names the file and what to do', () => {
    const dir = damagedDir();
    const result = loadConfig({ SPAREKEY_DATA_DIR: dir, SPAREKEY_SECRET: goodSecret });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems.join('\n')).toContain(`The sealing-key file ${join(dir, 'sealing-keys')} is damaged`);
    expect(problems.join('\n')).toContain('Restore it from a backup');
  });

  test('stops the server with that message and exit code 1, not a stack trace', () => {
    const started = spawnSync(process.execPath, [compiledPath('main.js')], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SPAREKEY_DATA_DIR: damagedDir(), PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(started.status).toBe(1);
    expect(started.stderr).toContain('SpareKey cannot start');
    expect(started.stderr).toContain('is damaged');
    expect(started.stderr).not.toMatch(/^\s+at /m);
  });
});
