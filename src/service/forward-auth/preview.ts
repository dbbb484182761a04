import type { AccessPolicy } from '../../core/access-rules.js';
import { fail, ok, type Result } from '../../core/result.js';
import type { ServiceDeps } from '../deps.js';
import { evaluateAccess, type ForwardAuthDecision } from './decide.js';

export interface AccessPreview {
  /** The rule that decided, or undefined for the default policy. */
  rule: string | undefined;
  decision: ForwardAuthDecision['kind'];
  /** For a denial: why. */
  reason?: string;
  /** The policy that applied, when a rule or the default decided. */
  policy?: AccessPolicy;
}

/**
 * "Test a URL as a user" for the admin console: the verdict forward auth would give that account (signed
 * in) or nobody (email empty), with the deciding rule. Nothing is audited or counted: it is a question,
 * not a request to the app.
 */
export async function previewAccess(
  deps: ServiceDeps,
  input: { url: string; method: string; email: string },
): Promise<Result<AccessPreview, 'user_not_found'>> {
  const email = input.email.trim();
  const user = email ? await deps.store.findUserByEmail(email) : undefined;
  if (email && !user) return fail('user_not_found');
  const { decision, rule } = await evaluateAccess(deps, { user, request: input });
  return ok({
    rule,
    decision: decision.kind,
    ...(decision.kind === 'denied' ? { reason: decision.reason } : {}),
    ...(decision.kind === 'allowed' ? { policy: decision.policy } : {}),
  });
}
