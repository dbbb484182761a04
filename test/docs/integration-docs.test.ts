import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { DEFAULT_RECOVERY_CODE_SETTINGS } from '../../src/core/policy.js';
import { EMBEDDED_POSTGRES_SCHEMA } from '../../src/library.js';

/**
 * Issue 21.2 and 21.4: what a developer and an operator must read is where they read it. The behaviour
 * itself is tested elsewhere (test/library/host-users.test.ts, test/library/embedding.test.ts); these
 * checks fail when a sentence the issue asked for goes, or stops matching the code's default.
 */
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/**
 * The text of a Markdown section, from its heading to the next heading of the same or a higher level
 * (a `# comment` line inside a fenced code block is no heading).
 */
function section(doc: string, heading: string): string {
  const lines = doc.split('\n');
  const start = lines.indexOf(heading);
  if (start === -1) throw new Error(`no section "${heading}"`);
  const level = heading.match(/^#+/)?.[0].length ?? 1;
  let fenced = false;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith('```')) fenced = !fenced;
    const depth = line.match(/^(#+) /)?.[1]?.length;
    if (!fenced && depth !== undefined && depth <= level) {
      end = i;
      break;
    }
  }
  return lines.slice(start + 1, end).join('\n');
}

describe('docs/api.md, where a developer adding SpareKey to an app with users reads (issue 21.2)', () => {
  const hostApps = section(read('docs/api.md'), '### An app that already has users');

  test('the master switch: recovery codes are off by default, and what generate and confirmTotp answer then', () => {
    expect(DEFAULT_RECOVERY_CODE_SETTINGS.enabled).toBe(false);
    expect(hostApps).toContain('**Recovery codes are off until switched on**');
    expect(hostApps).toContain('`admin.updateSettings({ enabled: true })`');
    expect(hostApps).toContain('`feature_disabled`');
    expect(hostApps).toContain('`recoveryCodes: null`');
  });

  test('confirmTotp of the first factor creates the first set: do not call generate after it', () => {
    expect(hostApps).toContain('**`confirmTotp` of the first factor creates the first recovery-code set**');
    expect(hostApps).toMatch(/Do not\s+call `recoveryCodes.generate` afterwards/);
  });

  test('headless by default, a host-parsed body, and the own PostgreSQL schema', () => {
    expect(hostApps).toContain('**headless** by default');
    expect(hostApps).toContain('after `express.json()`');
    expect(hostApps).toMatch(
      new RegExp(`migration bookkeeping\\*\\* in the schema\\s+\`${EMBEDDED_POSTGRES_SCHEMA}\``),
    );
    expect(hostApps).toContain('never touches `public`');
  });
});

describe('docs/deployment.md (issue 21.4)', () => {
  const doc = read('docs/deployment.md');

  test('behind nginx or Caddy with TLS; the pages need their own origin', () => {
    const proxy = section(doc, '## Behind nginx or Caddy, with TLS');
    expect(proxy).toContain('**their own origin**');
    expect(proxy).toContain('```nginx');
    expect(proxy).toContain('```caddy');
    expect(proxy).toMatch(/ssl_certificate|listen 443/);
  });

  test('a systemd service that runs the compiled server and stops on SIGTERM', () => {
    const unit = section(doc, '## As a systemd service');
    expect(unit).toContain('/etc/systemd/system/sparekey.service');
    expect(unit).toContain('dist/main.js');
    expect(unit).toContain('KillSignal=SIGTERM');
  });

  test('upgrades: migrations at start-up, a rolling restart on PostgreSQL', () => {
    const upgrades = section(doc, '## Upgrades');
    expect(upgrades).toContain('sparekey migrate');
    expect(upgrades).toContain('rolling restart');
    expect(upgrades).toContain('/readyz');
  });

  test('backups and restore: SQLite online, PostgreSQL, and the warning that an old backup revives codes and keys', () => {
    const backups = section(doc, '## Backups and restore');
    expect(backups).toContain(".backup '");
    expect(backups).toContain('pg_dump');
    expect(backups).toContain('pg_restore');
    expect(backups).toContain(`--schema=${EMBEDDED_POSTGRES_SCHEMA}`);
    const revival = section(doc, '### Restoring an old backup revives what was spent or revoked');
    expect(revival).toContain('recovery codes used since the backup work again');
    expect(revival).toContain('API keys\nrevoked since are valid again');
    // And what to do about it: revoke keys, end sessions, new codes, check the chain.
    expect(revival).toContain('sparekey apikey revoke');
    expect(revival).toContain('End every session');
    expect(revival).toContain('sparekey audit verify');
  });
});
