import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { fail, ok, type Result } from '../../core/result.js';
import { checkUserPassword } from '../accounts/accounts.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { verifyTotp } from '../factors/verify-totp.js';
import { verifySecurityKey } from '../factors/webauthn/authenticate-key.js';
import { throttled } from '../throttle/throttle.js';
import { accountThrottleKey, type Throttled, type ThrottleFailure } from '../throttle/throttle-counters.js';

export type StepUpRefusal = 'step_up_failed' | ThrottleFailure;

export type StepUpMethod = 'password' | 'totp' | 'webauthn';

let isIssuedProof: (value: unknown) => boolean;
let issueProof: (userId: string, method: StepUpMethod, sessionToken: string | undefined) => StepUpProof;

/**
 * What a passed step-up gives: the only thing regenerate, remove factor, disable and change password accept
 * from an end user's session. Only this module can make one (a private constructor, and an ES private field
 * that makes the type nominal), so an edge cannot write `{ userId, method }` and skip the check: it has to
 * call verifyStepUp (or the current-password check of a password change). A proof is for its own account
 * and the session it was proven in (that session gets a fresh token with the change), and it authorizes one
 * change: spendStepUpProof refuses it a second time.
 */
export class StepUpProof {
  /** Only objects this class constructed have it: what makes the type nominal and the runtime check sound. */
  readonly #issued = true;
  private constructor(
    readonly userId: string,
    readonly method: StepUpMethod,
    /** The session that proved it: the protected change rotates it (a new token, OWASP Session CS). */
    readonly sessionToken: string | undefined,
  ) {}
  static {
    issueProof = (userId, method, sessionToken) => new StepUpProof(userId, method, sessionToken);
    isIssuedProof = (value) => typeof value === 'object' && value !== null && #issued in value;
  }
}

/** Proofs already used: each authorizes one change. */
const spentProofs = new WeakSet<StepUpProof>();

/**
 * Checks that a proof may authorize a change to `userId`'s account, and marks it used. A proof for another
 * account, a spent one or a look-alike object is a programming error in an edge (never user input), so it
 * throws rather than answering.
 */
export function spendStepUpProof(proof: StepUpProof, userId: string): { sessionToken: string | undefined } {
  if (!isIssuedProof(proof)) throw new TypeError('not a step-up proof');
  if (proof.userId !== userId) throw new Error('a step-up proof authorizes changes to its own account only');
  if (spentProofs.has(proof)) throw new Error('a step-up proof authorizes one change only');
  spentProofs.add(proof);
  return { sessionToken: proof.sessionToken };
}

/**
 * Re-authentication before a sensitive change (regenerating codes, removing a factor, turning 2FA off):
 * the account password, a current authenticator code or a security key (STANDARDS req 11; OWASP MFA CS
 * "When to Require MFA"). A TOTP code used here is consumed like any other, so it cannot be replayed
 * elsewhere; a key answers a challenge issued for step-up in this session only. All are
 * throttled like sign-in attempts: a stolen session cannot guess the password or codes without limit.
 */
export async function verifyStepUp(
  deps: ServiceDeps,
  input: {
    userId: string;
    /** The session asking: the proof names it, so the protected change rotates its token. */
    sessionToken?: string;
    password?: string;
    totpCode?: string;
    /** A security key's answer to a step-up challenge issued to `binding` (the session). */
    securityKey?: { binding: string; response: AuthenticationResponseJSON };
    context: RequestContext;
  },
): Promise<Result<StepUpProof, StepUpRefusal>> {
  const now = deps.clock.now();
  let method: StepUpMethod | undefined;
  const attempted: StepUpMethod = input.securityKey
    ? 'webauthn'
    : input.totpCode?.trim()
      ? 'totp'
      : 'password';
  if (input.securityKey) {
    const verified = await verifySecurityKey(deps, {
      userId: input.userId,
      ...input.securityKey,
      ceremony: 'step_up',
      context: input.context,
    });
    if (!verified.ok && (verified.error === 'too_many_attempts' || verified.error === 'mfa_locked')) {
      return verified;
    }
    if (verified.ok) method = 'webauthn';
  } else if (input.totpCode?.trim()) {
    const verified = await verifyTotp(deps, {
      userId: input.userId,
      code: input.totpCode,
      context: input.context,
    });
    if (!verified.ok && (verified.error === 'too_many_attempts' || verified.error === 'mfa_locked')) {
      return verified;
    }
    if (verified.ok) method = 'totp';
  } else if (input.password) {
    const { userId, password, context } = input;
    const subject = { accountKey: accountThrottleKey(userId), userId, kind: 'sign_in', context } as const;
    const checked = await throttled(
      deps,
      subject,
      async () => ((await checkUserPassword(deps, { userId, password })) ? ok(true) : fail('wrong_password')),
      () => 'refund',
    );
    if (!checked.ok && (checked.error === 'too_many_attempts' || checked.error === 'mfa_locked')) {
      return checked;
    }
    if (checked.ok) method = 'password';
  }
  await deps.store.appendAuditEvent(
    auditEvent(
      now,
      method ? 'step_up' : 'step_up_failed',
      method ? 'success' : 'failure',
      input.userId,
      input.context,
      {
        method: method ?? attempted,
      },
    ),
  );
  return method ? ok(issueProof(input.userId, method, input.sessionToken)) : fail('step_up_failed');
}

/**
 * A password change's step-up: the current password (change-password.ts says why it is the only method
 * there), as a sign-in attempt: charged first, a right one only gives its charge back.
 */
export async function verifyCurrentPassword(
  deps: ServiceDeps,
  input: { userId: string; sessionToken: string; password: string; context: RequestContext },
): Promise<Result<StepUpProof, 'current_password_wrong'> | Throttled> {
  const { userId, context } = input;
  const subject = { accountKey: accountThrottleKey(userId), userId, kind: 'sign_in', context } as const;
  // Started the moment the charge is allowed, so argon2id runs while the charge is flushed (throttle.ts).
  let checking: Promise<boolean> | undefined;
  const startChecking = () => {
    checking ??= checkUserPassword(deps, { userId, password: input.password });
    checking.catch(() => undefined);
    return checking;
  };
  return throttled(
    deps,
    subject,
    async () => {
      if (await startChecking()) return ok(issueProof(userId, 'password', input.sessionToken));
      await deps.store.appendAuditEvent(
        auditEvent(deps.clock.now(), 'password_change_failed', 'failure', userId, context, {
          reason: 'current_password_wrong',
        }),
      );
      return fail('current_password_wrong');
    },
    // The user is signed in already: a right password is not a completed sign-in (as step-up).
    () => 'refund',
    startChecking,
  );
}
