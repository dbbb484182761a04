/**
 * Access rules for forward auth: which requests reaching a protected app need what. Pure: parsing with
 * every problem named after its rule, and first-match evaluation. Loading them (configuration, the admin
 * console) and acting on a decision live in service/forward-auth/.
 */

export const ACCESS_POLICIES = ['deny', 'one_factor', 'two_factor'] as const;
export type AccessPolicy = (typeof ACCESS_POLICIES)[number];

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'] as const;
const MAX_RULES = 200;
const MAX_PATTERN_LENGTH = 512;
/** A host pattern: a hostname, or `*.` then one (any number of labels under it). */
const HOST_PATTERN =
  /^(\*\.)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const ROLE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export interface AccessRule {
  /** Shown in the console, in audit events and in error messages. */
  name: string;
  /** `app.example.com` or `*.example.com` (a subdomain at any depth, not example.com itself). */
  hosts: string[];
  /** The path starts with this (compared before the query string). */
  pathPrefix?: string;
  /** Or the path matches this regular expression (JavaScript syntax, unanchored unless you anchor it). */
  pathRegex?: string;
  /** Upper-case HTTP methods; every method when absent. */
  methods?: string[];
  /** The rule applies only to people with one of these roles; to everyone when absent. */
  roles?: string[];
  policy: AccessPolicy;
}

export interface AccessRuleSet {
  rules: AccessRule[];
  /** What applies when no rule matches. */
  defaultPolicy: AccessPolicy;
}

/** A rule with its regular expression compiled once. */
export interface CompiledAccessRule extends AccessRule {
  pathPattern?: RegExp;
}

export type ParsedRules =
  | { ok: true; rules: CompiledAccessRule[]; defaultPolicy: AccessPolicy | undefined }
  | { ok: false; problems: string[] };

const RULE_FIELDS = new Set(['name', 'hosts', 'pathPrefix', 'pathRegex', 'methods', 'roles', 'policy']);

/**
 * Reads `{ "defaultPolicy"?, "rules": [...] }` (already JSON-parsed). Every problem names its rule, e.g.
 * `Rule 2 ("grafana"): pathRegex is not a valid regular expression (...)`, so an operator can fix it.
 */
export function parseAccessRules(input: unknown): ParsedRules {
  const problems: string[] = [];
  if (!isObject(input))
    return { ok: false, problems: ['The access rules must be a JSON object with "rules".'] };
  for (const key of Object.keys(input)) {
    if (key !== 'rules' && key !== 'defaultPolicy')
      problems.push(`Unknown field "${key}" (rules, defaultPolicy).`);
  }
  const defaultPolicy = input.defaultPolicy;
  if (defaultPolicy !== undefined && !isPolicy(defaultPolicy)) {
    problems.push(`defaultPolicy must be one of ${ACCESS_POLICIES.join(', ')}.`);
  }
  const list = input.rules ?? [];
  if (!Array.isArray(list)) return { ok: false, problems: [...problems, '"rules" must be a list.'] };
  if (list.length > MAX_RULES) problems.push(`At most ${MAX_RULES} rules.`);
  const rules: CompiledAccessRule[] = [];
  const names = new Set<string>();
  list.slice(0, MAX_RULES).forEach((raw, index) => {
    const rule = parseRule(raw, index + 1, problems);
    if (!rule) return;
    if (names.has(rule.name))
      problems.push(`${label(index + 1, rule.name)}: another rule has the same name.`);
    names.add(rule.name);
    rules.push(rule);
  });
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, rules, defaultPolicy: defaultPolicy as AccessPolicy | undefined };
}

function parseRule(raw: unknown, position: number, problems: string[]): CompiledAccessRule | undefined {
  if (!isObject(raw)) {
    problems.push(`Rule ${position}: must be an object.`);
    return undefined;
  }
  const name = typeof raw.name === 'string' && raw.name.trim() ? raw.name.trim().slice(0, 100) : '';
  const where = label(position, name);
  const before = problems.length;
  const fail = (text: string) => problems.push(`${where}: ${text}`);
  if (!name) fail('needs a "name".');
  for (const key of Object.keys(raw)) if (!RULE_FIELDS.has(key)) fail(`unknown field "${key}".`);
  const hosts = stringList(raw.hosts);
  if (!hosts || hosts.length === 0) fail('"hosts" must be a non-empty list of host names.');
  for (const host of hosts ?? []) {
    if (!HOST_PATTERN.test(host.toLowerCase())) fail(`"${host}" is not a host name or *.domain pattern.`);
  }
  if (!isPolicy(raw.policy)) fail(`"policy" must be one of ${ACCESS_POLICIES.join(', ')}.`);
  const rule: CompiledAccessRule = {
    name,
    hosts: (hosts ?? []).map((host) => host.toLowerCase()),
    policy: raw.policy as AccessPolicy,
  };
  if (raw.pathPrefix !== undefined) {
    if (
      typeof raw.pathPrefix !== 'string' ||
      !raw.pathPrefix.startsWith('/') ||
      raw.pathPrefix.length > MAX_PATTERN_LENGTH
    )
      fail('"pathPrefix" must be a path starting with /.');
    else rule.pathPrefix = raw.pathPrefix;
  }
  if (raw.pathRegex !== undefined) {
    if (rule.pathPrefix !== undefined) fail('give "pathPrefix" or "pathRegex", not both.');
    if (
      typeof raw.pathRegex !== 'string' ||
      raw.pathRegex.length === 0 ||
      raw.pathRegex.length > MAX_PATTERN_LENGTH
    ) {
      fail(`"pathRegex" must be a regular expression of at most ${MAX_PATTERN_LENGTH} characters.`);
    } else {
      try {
        rule.pathRegex = raw.pathRegex;
        rule.pathPattern = new RegExp(raw.pathRegex);
      } catch (error) {
        fail(`"pathRegex" is not a valid regular expression (${(error as Error).message}).`);
      }
    }
  }
  if (raw.methods !== undefined) {
    const methods = stringList(raw.methods)?.map((method) => method.toUpperCase());
    const unknown = methods?.filter((method) => !(METHODS as readonly string[]).includes(method));
    if (!methods || methods.length === 0 || (unknown && unknown.length > 0))
      fail(`"methods" must be a non-empty list of ${METHODS.join(', ')}.`);
    else rule.methods = methods;
  }
  if (raw.roles !== undefined) {
    const roles = stringList(raw.roles);
    if (!roles || roles.length === 0 || roles.some((role) => !ROLE.test(role)))
      fail('"roles" must be a non-empty list of role names (lower-case letters, digits, _ and -).');
    else rule.roles = roles;
  }
  return problems.length === before ? rule : undefined;
}

/** What is being asked for: the protected app's request, as the proxy reported it. */
export interface AccessRequest {
  host: string;
  path: string;
  method: string;
}

export type RuleMatch =
  /** This rule applies (its name, or undefined for the default policy). */
  | { kind: 'policy'; policy: AccessPolicy; rule: string | undefined }
  /** A rule limited to roles could apply: the person must sign in before it can be decided. */
  | { kind: 'identity_needed'; rule: string };

/**
 * First match wins, in order. A rule limited to roles is skipped for someone without those roles; for an
 * anonymous request it stops evaluation, since who they are decides whether it applies.
 */
export function matchAccessRule(
  set: { rules: readonly CompiledAccessRule[]; defaultPolicy: AccessPolicy },
  request: AccessRequest,
  roles: readonly string[] | undefined,
): RuleMatch {
  const host = request.host.toLowerCase();
  const method = request.method.toUpperCase();
  for (const rule of set.rules) {
    if (!rule.hosts.some((pattern) => hostMatches(pattern, host))) continue;
    if (rule.pathPrefix !== undefined && !request.path.startsWith(rule.pathPrefix)) continue;
    if (rule.pathPattern && !rule.pathPattern.test(request.path)) continue;
    if (rule.methods && !rule.methods.includes(method)) continue;
    if (rule.roles) {
      if (roles === undefined) return { kind: 'identity_needed', rule: rule.name };
      if (!rule.roles.some((role) => roles.includes(role))) continue;
    }
    return { kind: 'policy', policy: rule.policy, rule: rule.name };
  }
  return { kind: 'policy', policy: set.defaultPolicy, rule: undefined };
}

export function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return host === pattern;
}

function label(position: number, name: string): string {
  return name ? `Rule ${position} ("${name}")` : `Rule ${position}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPolicy(value: unknown): value is AccessPolicy {
  return typeof value === 'string' && (ACCESS_POLICIES as readonly string[]).includes(value);
}

function stringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length > 100) return undefined;
  return value.every((item) => typeof item === 'string' && item.length <= 253)
    ? (value as string[])
    : undefined;
}
