import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';

const dir = () => mkdtempSync(join(tmpdir(), 'sparekey-fa-config-'));
const secret = Buffer.alloc(32, 9).toString('base64');

function rulesFile(document: unknown): string {
  const path = join(dir(), 'access-rules.json');
  writeFileSync(path, typeof document === 'string' ? document : JSON.stringify(document));
  return path;
}

describe('forward-auth configuration', () => {
  test('off by default: no cookie domain, no rules, deny', () => {
    const result = loadConfig({ SPAREKEY_DATA_DIR: dir(), SPAREKEY_SECRET: secret });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.config.forwardAuth).toEqual({ cookieDomain: null, rules: [], defaultPolicy: 'deny' });
  });

  test('SPAREKEY_COOKIE_DOMAIN and SPAREKEY_ACCESS_RULES_FILE are read', () => {
    const result = loadConfig({
      SPAREKEY_DATA_DIR: dir(),
      SPAREKEY_SECRET: secret,
      SPAREKEY_COOKIE_DOMAIN: '.Example.com',
      SPAREKEY_ACCESS_RULES_FILE: rulesFile({
        defaultPolicy: 'one_factor',
        rules: [{ name: 'admin', hosts: ['*.example.com'], pathPrefix: '/admin', policy: 'two_factor' }],
      }),
    });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.config.forwardAuth.cookieDomain).toBe('example.com');
    expect(result.config.forwardAuth.defaultPolicy).toBe('one_factor');
    expect(result.config.forwardAuth.rules.map((rule) => rule.name)).toEqual(['admin']);
  });

  test('a malformed rule stops the start with a message naming it', () => {
    const result = loadConfig({
      SPAREKEY_DATA_DIR: dir(),
      SPAREKEY_SECRET: secret,
      SPAREKEY_ACCESS_RULES_FILE: rulesFile({
        rules: [
          { name: 'fine', hosts: ['a.example.com'], policy: 'one_factor' },
          { name: 'grafana', hosts: ['grafana.example.com'], pathRegex: '[', policy: 'two_factor' },
        ],
      }),
    });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.join('\n')).toMatch(
      /SPAREKEY_ACCESS_RULES_FILE: Rule 2 \("grafana"\): "pathRegex" is not a valid regular expression/,
    );
  });

  test('a file that is not JSON, and a cookie domain that is not a domain, are refused', () => {
    const result = loadConfig({
      SPAREKEY_DATA_DIR: dir(),
      SPAREKEY_SECRET: secret,
      SPAREKEY_COOKIE_DOMAIN: 'https://example.com',
      SPAREKEY_ACCESS_RULES_FILE: rulesFile('{ rules: '),
    });
    expect(result.ok).toBe(false);
    const problems = !result.ok ? result.problems.join('\n') : '';
    expect(problems).toMatch(/SPAREKEY_COOKIE_DOMAIN must be a domain like example.com/);
    expect(problems).toMatch(/SPAREKEY_ACCESS_RULES_FILE .* could not be read as JSON/);
  });
});
