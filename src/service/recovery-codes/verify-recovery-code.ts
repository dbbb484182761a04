import { isLowOnRecoveryCodes, type RecoveryCodeSettings } from '../../core/policy.js';
import { normalizeRecoveryCode } from '../../core/recovery-code.js';
import { unmatchableRecoveryCodeDigest, verifyRecoveryCodeDigest } from '../../core/recovery-code-digest.js';
import { fail, ok, type Result } from '../../core/result.js';
import type { WebhookEventType } from '../../core/webhook.js';
import type { RecoveryCodeRecord, Store } from '../../store/store.js';
import { loadRecoveryCodeSettings } from '../admin/settings.js';
import { auditEvent } from '../audit/audit.js';
import { appendWithCarried } from '../audit/carried-audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { notifyRecoveryCodeUsed } from '../notifications/notifications.js';
import { type Settlement, throttled } from '../throttle/throttle.js';
import { accountThrottleKey, type Throttled } from '../throttle/throttle-counters.js';
import { emitWebhookEvent } from '../webhooks/webhooks.js';
import { type IssuedRecoveryCodeSet, prepareRecoveryCodeSet } from './prepare-recovery-code-set.js';

/** What the edge shows after a recovery code signed the user in, per the operator's policy. */
export type RecoveryOutcome =
  | { policy: 'continue'; remaining: number; total: number; low: boolean }
  | { policy: 'disable_mfa' }
  | { policy: 'rotate'; replacement: IssuedRecoveryCodeSet };

export type RecoveryCodeFailure =
  | 'feature_disabled'
  | 'malformed_code'
  | 'invalid_code'
  | 'code_already_used';

/**
 * Verifies a recovery code as a second factor and applies the post-recovery policy.
 *
 * Cost: the code names its slot (D1), so one attempt runs the KDF exactly once whatever the set size,
 * including for a slot that does not exist (a digest that matches nothing keeps the timing uniform).
 * Single use: the store consumes with a conditional update, and the policy's effects and the audit
 * event commit in the same transaction, so a concurrent second use of one code always loses.
 * Throttled: each attempt is charged to the account (and address) before it is evaluated (throttle.ts);
 * the slot is read before the charge so the KDF can run while the charge is flushed to disk.
 */
export async function verifyRecoveryCode(
  deps: ServiceDeps,
  input: { userId: string; code: string; context: RequestContext; purpose?: RecoveryCodePurpose },
): Promise<Result<RecoveryOutcome, RecoveryCodeFailure> | Throttled> {
  const { userId, context } = input;
  const subject = { accountKey: accountThrottleKey(userId), userId, kind: 'second_factor', context } as const;
  const attempt = await lookUpAttempt(deps, input);
  let matching: Promise<boolean> | undefined;
  const startMatching = () => {
    if ('refused' in attempt) return undefined;
    matching ??= verifyRecoveryCodeDigest(deps.kdf, {
      code: attempt.code,
      digest: attempt.record?.digest ?? unmatchableRecoveryCodeDigest(deps.options.kdfParams),
      pepper: deps.keys.recoveryCodePepper,
    });
    // Awaited by the evaluation, which does not run if the charge fails to commit.
    matching.catch(() => undefined);
    return matching;
  };
  return throttled(
    deps,
    subject,
    (settlement) => evaluateRecoveryCode(deps, input, attempt, startMatching(), settlement),
    undefined,
    startMatching,
  );
}

/** What the code is used for, which the notice email names: a sign-in (the default) or a password reset. */
export type RecoveryCodePurpose = 'sign_in' | 'password_reset';

/** What an attempt needs before its KDF: the settings, the normalized code and the slot it names (if any). */
type RecoveryAttempt =
  | { settings: RecoveryCodeSettings; refused: RecoveryCodeFailure }
  | { settings: RecoveryCodeSettings; code: string; record: RecoveryCodeRecord | undefined };

async function lookUpAttempt(
  deps: ServiceDeps,
  input: { userId: string; code: string },
): Promise<RecoveryAttempt> {
  const settings = await loadRecoveryCodeSettings(deps.store);
  if (!settings.enabled) return { settings, refused: 'feature_disabled' };
  // Normalization caps the input length before any KDF work (STANDARDS req 14).
  const normalized = normalizeRecoveryCode(input.code, settings.format);
  if (!normalized.ok) return { settings, refused: 'malformed_code' };
  const record = await deps.store.findRecoveryCode(input.userId, normalized.slot);
  return { settings, code: normalized.code, record };
}

async function evaluateRecoveryCode(
  deps: ServiceDeps,
  input: { userId: string; code: string; context: RequestContext; purpose?: RecoveryCodePurpose },
  attempt: RecoveryAttempt,
  matching: Promise<boolean> | undefined,
  settlement: Settlement,
): Promise<Result<RecoveryOutcome, RecoveryCodeFailure>> {
  const { store, clock } = deps;
  const refuse = async (error: RecoveryCodeFailure) => {
    const written = await appendWithCarried(store, input.context, [
      auditEvent(clock.now(), 'recovery_code_failed', 'failure', input.userId, input.context, {
        reason: error,
      }),
    ]);
    written();
    deps.metrics?.recoveryCodeAttempt('refused', error);
    return fail(error);
  };
  if ('refused' in attempt) return refuse(attempt.refused);
  const { settings, record } = attempt;
  const matches = await matching;
  if (!record || !matches) return refuse('invalid_code');
  // A dead code is worth naming (NIST SP 800-63B 5.1.5.2 "MAY warn"): it discloses nothing usable.
  if (record.usedAt !== null) return refuse('code_already_used');

  // Replacement codes are hashed before the transaction, so no lock is held during KDF work.
  const replacement = settings.policy === 'rotate' ? await prepareRecoveryCodeSet(deps, settings) : undefined;
  let written: (() => void) | undefined;
  const outcome = await store.transaction(async (tx) => {
    const now = clock.now();
    const consumption = await tx.consumeRecoveryCode(record.setId, record.slot, now);
    if (!consumption.consumed) return undefined;
    await settlement.within(tx, 'reset');
    return applyPolicy(deps, tx, settings, {
      ...input,
      now,
      setId: record.setId,
      slot: record.slot,
      left: consumption,
      replacement,
      written: (done) => {
        written = done;
      },
    });
  });
  // Committed: what the context carried went in with the use's event.
  written?.();
  if (!outcome) return refuse('code_already_used');
  deps.metrics?.recoveryCodeAttempt('accepted');
  await notifyRecoveryCodeUsed(deps, {
    userId: input.userId,
    at: clock.now(),
    remaining: outcome.policy === 'continue' ? outcome.remaining : null,
    outcome: outcomeSentence(outcome),
    purpose: input.purpose ?? 'sign_in',
    context: input.context,
  });
  return ok(outcome);
}

function outcomeSentence(outcome: RecoveryOutcome): string {
  if (outcome.policy === 'disable_mfa') {
    return 'As this site requires, two-factor authentication was turned off and must be set up again.';
  }
  if (outcome.policy === 'rotate') {
    return 'As this site requires, your recovery codes were replaced by new ones, shown once on the page where this code was used.';
  }
  return 'Your other recovery codes still work.';
}

async function applyPolicy(
  deps: ServiceDeps,
  tx: Store,
  settings: RecoveryCodeSettings,
  use: {
    userId: string;
    context: RequestContext;
    purpose?: RecoveryCodePurpose;
    now: Date;
    setId: string;
    slot: number;
    /** What the set has left after this use. */
    left: { remaining: number; total: number };
    replacement: Awaited<ReturnType<typeof prepareRecoveryCodeSet>> | undefined;
    /** Told what to call once the transaction has committed (the carried events it wrote). */
    written: (done: () => void) => void;
  },
): Promise<RecoveryOutcome> {
  // The first event goes in with what the context still carries (audit/carried-audit.ts), one INSERT.
  let first = true;
  const event = async (action: Parameters<typeof auditEvent>[1], details = {}) => {
    const audited = auditEvent(use.now, action, 'success', use.userId, use.context, details);
    if (!first) return void (await tx.appendAuditEvent(audited));
    first = false;
    use.written(await appendWithCarried(tx, use.context, [audited]));
  };
  const hook = (type: WebhookEventType, data: Record<string, unknown>) =>
    emitWebhookEvent(deps, tx, { type, at: use.now, userId: use.userId, context: use.context, data });
  const used = { setId: use.setId, slot: use.slot, policy: settings.policy };

  if (settings.policy === 'disable_mfa') {
    const factors = await tx.deleteAllFactors(use.userId);
    await tx.deleteRecoveryCodeSet(use.userId);
    await tx.forgetRememberedDevices(use.userId, null);
    await event('recovery_code_used', { ...used, remaining: 0 });
    await event('mfa_disabled', { reason: 'recovery_code', factorsRemoved: factors });
    await hook('recovery_code.used', { remaining: 0, policy: settings.policy });
    return { policy: 'disable_mfa' };
  }
  if (settings.policy === 'rotate' && use.replacement) {
    await tx.replaceRecoveryCodeSet(use.userId, use.replacement.stored);
    await event('recovery_code_used', { ...used, remaining: use.replacement.issued.codes.length });
    await event('recovery_codes_regenerated', {
      reason: 'rotate',
      setId: use.replacement.issued.setId,
      count: use.replacement.issued.codes.length,
    });
    await hook('recovery_code.used', {
      remaining: use.replacement.issued.codes.length,
      policy: settings.policy,
    });
    await hook('recovery_codes.regenerated', {
      reason: 'rotate',
      count: use.replacement.issued.codes.length,
    });
    return { policy: 'rotate', replacement: use.replacement.issued };
  }
  const { remaining, total } = use.left;
  await event('recovery_code_used', { ...used, remaining });
  await hook('recovery_code.used', { remaining, policy: settings.policy });
  const low = isLowOnRecoveryCodes(remaining, settings.lowThreshold);
  if (low || remaining === 0) await hook('recovery_codes.low', { remaining });
  return {
    policy: 'continue',
    remaining,
    total,
    low,
  };
}
