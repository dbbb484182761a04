import { type AccessPolicy, matchAccessRule } from '../../core/access-rules.js';
import { mfaSetupRequired, type RecoveryCodeSettings } from '../../core/policy.js';
import { loadRecoveryCodeSettings } from '../admin/settings.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { isMfaEnabled } from '../factors/mfa-state.js';
import type { ActiveSession } from '../sessions/sessions.js';
import { type EffectiveAccessRules, loadAccessRules } from './access-rules.js';
import { checkReturnAddress } from './return-address.js';

/**
 * What a verdict reads besides the session. `directReads` asks the database each time (the console's
 * preview); the verdicts' reads (verdict-reads.ts) may answer from what they read before, while the database
 * has not changed.
 */
export interface AccessReads {
  /** A value at once when it is at hand (no promise, no turn of the microtask queue), else a promise. */
  accessRules(): EffectiveAccessRules | Promise<EffectiveAccessRules>;
  recoveryCodeSettings(): RecoveryCodeSettings | Promise<RecoveryCodeSettings>;
  mfaEnabled(userId: string): boolean | Promise<boolean>;
}

export function directReads(deps: ServiceDeps): AccessReads {
  return {
    accessRules: () => loadAccessRules(deps),
    recoveryCodeSettings: () => loadRecoveryCodeSettings(deps.store),
    mfaEnabled: (userId) => isMfaEnabled(deps.store, userId),
  };
}

/** The request to a protected app, as the reverse proxy reported it. */
export interface ProtectedRequest {
  /** Absolute: scheme, host, path and query. */
  url: string;
  method: string;
}

/** Who the app is told it is talking to (the proxy passes these upstream as Remote-* headers). */
export interface ForwardedIdentity {
  userId: string;
  email: string;
  roles: readonly string[];
}

export type ForwardAuthDecision =
  | { kind: 'allowed'; identity: ForwardedIdentity; policy: Exclude<AccessPolicy, 'deny'> }
  /** Not signed in (or only half-way): sign in, then come back to the URL. */
  | { kind: 'sign_in'; location: string }
  /** Signed in, but the rule wants a second factor the person has not set up yet. */
  | { kind: 'second_factor_setup'; location: string }
  | { kind: 'denied'; reason: 'access_denied' | 'address_not_protected' };

/** A verdict with the rule that gave it (undefined: the default policy), before any audit. */
export interface Evaluation {
  decision: ForwardAuthDecision;
  rule: string | undefined;
}

/**
 * The verdict for one request to a protected app, from the session alone: no KDF, no write except the
 * audit of a denial (and the session's once-a-minute idle refresh, done when it was resolved).
 */
export async function decideForwardAuth(
  deps: ServiceDeps,
  input: { session: ActiveSession | undefined; request: ProtectedRequest; context: RequestContext },
  reads: AccessReads,
): Promise<ForwardAuthDecision> {
  const signedIn = signedInSession(input.session);
  const evaluation = await evaluateAccess(deps, { user: signedIn?.user, request: input.request }, reads);
  return concludeVerdict(deps, { ...input, session: signedIn }, evaluation);
}

/** The session a verdict goes by: a signed-in one (half-way through signing in counts as none). */
export function signedInSession(session: ActiveSession | undefined): ActiveSession | undefined {
  return session?.record.stage === 'signed_in' ? session : undefined;
}

/**
 * What every verdict does with its evaluation, however it was reached: counts it in /metrics and audits a
 * denial. A value at once unless there is a denial to write.
 */
export function concludeVerdict(
  deps: ServiceDeps,
  input: { session: ActiveSession | undefined; request: ProtectedRequest; context: RequestContext },
  { decision, rule }: Evaluation,
): ForwardAuthDecision | Promise<ForwardAuthDecision> {
  deps.metrics?.forwardAuthDecision(decision.kind);
  if (decision.kind !== 'denied') return decision;
  return auditDenial(deps, input, {
    reason: decision.reason,
    rule: decision.reason === 'address_not_protected' ? null : (rule ?? '(default)'),
  }).then(() => decision);
}

/**
 * What the rules say for this request and this person (undefined: nobody signed in). Reads only: the
 * admin console's preview uses it as it is.
 */
export async function evaluateAccess(
  deps: ServiceDeps,
  input: {
    user: { id: string; email: string | null; roles: readonly string[] } | undefined;
    request: ProtectedRequest;
  },
  reads: AccessReads = directReads(deps),
): Promise<Evaluation> {
  const address = checkReturnAddress(deps, input.request.url);
  if (!address || address.startsWith('/')) {
    return { decision: { kind: 'denied', reason: 'address_not_protected' }, rule: undefined };
  }
  const url = new URL(address);
  const pending = reads.accessRules();
  const match = matchAccessRule(
    pending instanceof Promise ? await pending : pending,
    { host: url.hostname, path: url.pathname, method: input.request.method },
    input.user?.roles,
  );
  const user = input.user;
  if (match.kind === 'identity_needed')
    return { decision: { kind: 'sign_in', location: signInLocation(deps, address) }, rule: match.rule };
  if (match.policy === 'deny')
    return { decision: { kind: 'denied', reason: 'access_denied' }, rule: match.rule };
  if (!user)
    return { decision: { kind: 'sign_in', location: signInLocation(deps, address) }, rule: match.rule };
  const owed = secondFactorOwed(reads, match.policy, user);
  if (owed instanceof Promise ? await owed : owed) {
    return {
      decision: { kind: 'second_factor_setup', location: setupLocation(deps, address) },
      rule: match.rule,
    };
  }
  // A host application's user without an address has no session here (no password); '' all the same.
  const identity = { userId: user.id, email: user.email ?? '', roles: user.roles };
  return { decision: { kind: 'allowed', identity, policy: match.policy }, rule: match.rule };
}

/**
 * A two_factor rule needs a confirmed second factor: a signed-in session of someone who has one passed it
 * at sign-in (or on a browser remembered after passing it), or just set it up. A one_factor rule still
 * honours the operator's "roles that must set up two-factor". A value at once when the reads have theirs
 * at hand, else a promise.
 */
function secondFactorOwed(
  reads: AccessReads,
  policy: 'one_factor' | 'two_factor',
  user: { id: string; roles: readonly string[] },
): boolean | Promise<boolean> {
  if (policy === 'two_factor') return then(reads.mfaEnabled(user.id), (enabled) => !enabled);
  // Read for each verdict, like the rules: a change applies to the next request, on every instance.
  return then(reads.recoveryCodeSettings(), (settings) => {
    if (!user.roles.some((role) => settings.mfaRequiredRoles.includes(role))) return false;
    return then(reads.mfaEnabled(user.id), (mfaEnabled) =>
      mfaSetupRequired(settings, { roles: user.roles, mfaEnabled }),
    );
  });
}

/** `next(value)`, at once for a value, after it for a promise. */
function then<T, R>(value: T | Promise<T>, next: (value: T) => R | Promise<R>): R | Promise<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}

function signInLocation(deps: ServiceDeps, address: string): string {
  return `${ownOrigin(deps)}/sign-in?return_to=${encodeURIComponent(address)}`;
}

function setupLocation(deps: ServiceDeps, address: string): string {
  return `${ownOrigin(deps)}/settings/two-factor?notice=mfa-required-app&return_to=${encodeURIComponent(address)}`;
}

function ownOrigin(deps: ServiceDeps): string {
  return deps.options.publicUrl ?? '';
}

async function auditDenial(
  deps: ServiceDeps,
  input: { session: ActiveSession | undefined; request: ProtectedRequest; context: RequestContext },
  details: { reason: string; rule: string | null },
): Promise<void> {
  const target = describeTarget(input.request.url);
  await deps.store.appendAuditEvent(
    auditEvent(
      deps.clock.now(),
      'forward_auth_denied',
      'failure',
      input.session?.user.id ?? null,
      input.context,
      {
        ...target,
        method: input.request.method.slice(0, 16),
        ...details,
      },
    ),
  );
}

/** Host and path for the log, never the query string (it can carry tokens), bounded either way. */
function describeTarget(raw: string): { host: string; path: string } {
  try {
    const url = new URL(raw);
    return { host: url.host.slice(0, 255), path: url.pathname.slice(0, 256) };
  } catch {
    return { host: '(unparseable)', path: '' };
  }
}
