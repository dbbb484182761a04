import { readFileSync } from 'node:fs';
import { type AccessPolicy, type CompiledAccessRule, parseAccessRules } from '../core/access-rules.js';

/** Forward auth and the session cookie shared with protected apps (docs/integrations.md). */
export interface ForwardAuthConfig {
  /**
   * SPAREKEY_COOKIE_DOMAIN: the session cookie is sent to this domain and its subdomains (`example.com`
   * for app.example.com and auth.example.com), and return addresses must lie under it. Null: a host-only
   * `__Host-` cookie, and forward auth cannot see the session on another host.
   */
  cookieDomain: string | null;
  /** SPAREKEY_ACCESS_RULES_FILE: the operator's rules, evaluated before the ones set in the console. */
  rules: CompiledAccessRule[];
  /** The file's defaultPolicy, else deny; the console may set its own. */
  defaultPolicy: AccessPolicy;
}

const DOMAIN =
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$|^localhost$/;

export function parseForwardAuthConfig(env: NodeJS.ProcessEnv, problems: string[]): ForwardAuthConfig {
  const domainText = env.SPAREKEY_COOKIE_DOMAIN?.trim().toLowerCase().replace(/^\./, '') || null;
  if (domainText !== null && !DOMAIN.test(domainText)) {
    problems.push(
      `SPAREKEY_COOKIE_DOMAIN must be a domain like example.com (no scheme, port or wildcard), not "${domainText}".`,
    );
  }
  const config: ForwardAuthConfig = { cookieDomain: domainText, rules: [], defaultPolicy: 'deny' };
  const file = env.SPAREKEY_ACCESS_RULES_FILE?.trim();
  if (!file) return config;
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    problems.push(
      `SPAREKEY_ACCESS_RULES_FILE ${file} could not be read as JSON: ${(error as Error).message}`,
    );
    return config;
  }
  const parsed = parseAccessRules(document);
  if (!parsed.ok) {
    problems.push(...parsed.problems.map((problem) => `SPAREKEY_ACCESS_RULES_FILE: ${problem}`));
    return config;
  }
  return { ...config, rules: parsed.rules, defaultPolicy: parsed.defaultPolicy ?? 'deny' };
}
