import {
  type AccessPolicy,
  type AccessRule,
  type CompiledAccessRule,
  parseAccessRules,
} from '../../core/access-rules.js';
import { fail, ok, type Result } from '../../core/result.js';
import type { Store } from '../../store/store.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';

/** The rules set in the admin console: one settings document, validated on every write. */
const CONSOLE_RULES_KEY = 'access_rules';

/** The rules in force: the configuration file's first, then the console's, then the default policy. */
export interface EffectiveAccessRules {
  configRules: CompiledAccessRule[];
  consoleRules: CompiledAccessRule[];
  /** All of them, in evaluation order. */
  rules: CompiledAccessRule[];
  defaultPolicy: AccessPolicy;
  /** Where the default policy comes from. */
  defaultPolicySource: 'console' | 'configuration';
}

/**
 * Forward auth asks for every request to a protected app, so the console's rules are read at most once a
 * second per process and app: a change made through this process applies at once (the cache is dropped),
 * one made through another instance within a second.
 */
const CACHE_MS = 1000;
const cache = new WeakMap<ServiceDeps, { at: number; rules: EffectiveAccessRules }>();

export async function loadAccessRules(deps: ServiceDeps): Promise<EffectiveAccessRules> {
  const now = deps.clock.now().getTime();
  const cached = cache.get(deps);
  if (cached && now - cached.at >= 0 && now - cached.at < CACHE_MS) return cached.rules;
  const rules = await readAccessRules(deps, deps.store);
  cache.set(deps, { at: now, rules });
  return rules;
}

async function readAccessRules(deps: ServiceDeps, store: Store): Promise<EffectiveAccessRules> {
  const configured = deps.options.forwardAuth;
  const configRules = configured?.rules ?? [];
  const stored = await store.getSetting(CONSOLE_RULES_KEY);
  // Stored documents were validated when saved; a document that no longer parses (hand-edited) counts
  // as no console rules rather than as a hole in the rules.
  const parsed = stored === undefined ? undefined : parseAccessRules(stored);
  const consoleRules = parsed?.ok ? parsed.rules : [];
  const consoleDefault = parsed?.ok ? parsed.defaultPolicy : undefined;
  return {
    configRules,
    consoleRules,
    rules: [...configRules, ...consoleRules],
    defaultPolicy: consoleDefault ?? configured?.defaultPolicy ?? 'deny',
    defaultPolicySource: consoleDefault ? 'console' : 'configuration',
  };
}

/** The console's rules as the editor shows them: plain JSON, without compiled patterns. */
export function plainRule(rule: CompiledAccessRule): AccessRule {
  const { pathPattern: _compiled, ...plain } = rule;
  return plain;
}

/** The console's own document as its editor shows it: its default policy (if it sets one) and its rules. */
export function consoleRulesDocument(rules: EffectiveAccessRules): {
  defaultPolicy?: AccessPolicy;
  rules: AccessRule[];
} {
  return {
    ...(rules.defaultPolicySource === 'console' ? { defaultPolicy: rules.defaultPolicy } : {}),
    rules: rules.consoleRules.map(plainRule),
  };
}

/**
 * Replaces the console's rules (and optionally its default policy) with a new document. A malformed
 * document is refused whole, with one problem per fault naming its rule; a saved change is audited with the
 * rules before and after.
 */
export async function saveConsoleAccessRules(
  deps: ServiceDeps,
  input: { document: unknown; context: RequestContext },
): Promise<Result<EffectiveAccessRules, 'invalid_access_rules'> & { problems?: string[] }> {
  const parsed = parseAccessRules(input.document);
  if (!parsed.ok) return { ...fail('invalid_access_rules'), problems: parsed.problems };
  const configNames = new Set(deps.options.forwardAuth?.rules.map((rule) => rule.name));
  const clashes = parsed.rules.filter((rule) => configNames.has(rule.name));
  if (clashes.length > 0) {
    return {
      ...fail('invalid_access_rules'),
      problems: clashes.map((rule) => `Rule "${rule.name}": a rule of the configuration file has that name.`),
    };
  }
  const after = {
    ...(parsed.defaultPolicy ? { defaultPolicy: parsed.defaultPolicy } : {}),
    rules: parsed.rules.map(plainRule),
  };
  const saved = await deps.store.transaction(async (tx) => {
    const before = (await tx.getSetting(CONSOLE_RULES_KEY)) ?? { rules: [] };
    const now = deps.clock.now();
    await tx.putSetting(CONSOLE_RULES_KEY, after, now);
    await tx.appendAuditEvent(
      auditEvent(now, 'access_rules_changed', 'success', null, input.context, {
        before: JSON.stringify(before),
        after: JSON.stringify(after),
      }),
    );
    return readAccessRules(deps, tx);
  });
  cache.delete(deps);
  return ok(saved);
}
