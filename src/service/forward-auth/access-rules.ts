import { isDeepStrictEqual } from 'node:util';
import {
  type AccessPolicy,
  type AccessRule,
  type CompiledAccessRule,
  parseAccessRules,
} from '../../core/access-rules.js';
import { fail, ok, type Result } from '../../core/result.js';
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
 * Forward auth asks for every request to a protected app. The console's document is read every time, so
 * a change saved through any instance applies from the next request on (no cache to go stale across
 * processes); what is kept is the work of validating it and compiling its patterns, redone only when the
 * document (or the configuration's rules) differ from the last ones compiled.
 */
const compiled = new WeakMap<
  ServiceDeps,
  { stored: unknown; configured: ServiceDeps['options']['forwardAuth']; rules: EffectiveAccessRules }
>();

export async function loadAccessRules(deps: ServiceDeps): Promise<EffectiveAccessRules> {
  const stored = await deps.store.getSetting(CONSOLE_RULES_KEY);
  const configured = deps.options.forwardAuth;
  const last = compiled.get(deps);
  if (last && last.configured === configured && isDeepStrictEqual(last.stored, stored)) return last.rules;
  const rules = effectiveRules(deps, stored);
  compiled.set(deps, { stored, configured, rules });
  return rules;
}

function effectiveRules(deps: ServiceDeps, stored: unknown): EffectiveAccessRules {
  const configured = deps.options.forwardAuth;
  const configRules = configured?.rules ?? [];
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
    return effectiveRules(deps, after);
  });
  return ok(saved);
}
