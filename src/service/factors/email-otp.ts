import {
  digestEmailOtp,
  emailOtpMatches,
  generateEmailOtp,
  isEmailOtpExpired,
} from '../../core/email-otp.js';
import { fail, ok, type Result } from '../../core/result.js';
import type { Store } from '../../store/store.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { throttled } from '../throttle/throttle.js';
import {
  accountThrottleKey,
  chargeEmailSend,
  isSecondFactorLocked,
  type Throttled,
} from '../throttle/throttle-counters.js';

/** An emailed code on its way: it works until `expiresAt`. */
export interface SentEmailCode {
  expiresAt: Date;
}

/** A right emailed code: the challenge it answered. */
export interface EmailCodeVerification {
  challengeId: string;
}

/**
 * Emails a one-time code for one sign-in attempt. A resend replaces the attempt's earlier code, so only
 * the newest one is live (OWASP MFA CS). The code is stored only as an HMAC bound to its challenge.
 * Email is not a NIST authenticator (63B §5.1.3.1): operators can switch it off. Sends are throttled per
 * account (an inbox must not be flooded), and none is sent while the account's second factors are locked.
 */
export async function sendEmailOtp(
  deps: ServiceDeps,
  input: {
    userId: string;
    attemptId: string;
    context: RequestContext;
    /** What the code is for, which the email says: a sign-in (the default) or adding email as a factor. */
    purpose?: EmailOtpPurpose;
    /** More to write with the code, only once the send is allowed: a refused send changes nothing. */
    alsoWrite?: (tx: Store) => Promise<void>;
  },
): Promise<
  Result<SentEmailCode, 'email_otp_disabled' | 'user_not_found' | 'email_address_missing'> | Throttled
> {
  const { store, clock, options } = deps;
  if (!options.emailOtp.enabled) return fail('email_otp_disabled');
  const user = await store.findUserById(input.userId);
  if (!user) return fail('user_not_found');
  const to = user.email;
  if (to === null) return fail('email_address_missing');
  if (await isSecondFactorLocked(deps, user.id)) return fail('mfa_locked');
  const allowed = await chargeEmailSend(deps, { userId: user.id, ip: input.context.ip });
  if (!allowed.ok) return allowed;
  const code = generateEmailOtp(deps.random, options.emailOtp.digits);
  const challengeId = deps.random.uuid();
  const now = clock.now();
  const expiresAt = new Date(now.getTime() + options.emailOtp.ttlMs);
  await store.transaction(async (tx) => {
    await input.alsoWrite?.(tx);
    await tx.replaceEmailOtpChallenge({
      id: challengeId,
      userId: user.id,
      attemptId: input.attemptId,
      digest: digestEmailOtp(code, challengeId, deps.keys.emailOtpKey),
      createdAt: now,
      expiresAt,
    });
    await tx.appendAuditEvent(
      auditEvent(now, 'email_otp_sent', 'success', user.id, input.context, { challengeId }),
    );
  });
  await deps.mailer.send({
    to,
    ...emailOtpMessage(input.purpose ?? 'sign_in', {
      site: options.issuer,
      code,
      minutes: Math.round(options.emailOtp.ttlMs / 60_000),
    }),
  });
  return ok({ expiresAt });
}

export type EmailOtpPurpose = 'sign_in' | 'enrollment';

/**
 * Each purpose gets its own words: a sign-in code warns that someone may know the password, but a person
 * adding email codes in Settings is not signing in, and that warning would only alarm them.
 */
function emailOtpMessage(
  purpose: EmailOtpPurpose,
  input: { site: string; code: string; minutes: number },
): { subject: string; text: string } {
  const { site, code, minutes } = input;
  const expiry = `It expires in ${minutes} minute${minutes === 1 ? '' : 's'} and works once.\n`;
  if (purpose === 'enrollment') {
    return {
      subject: `Confirm email codes for ${site}`,
      text:
        `You are adding email codes as a two-factor method for your ${site} account.\n\n` +
        `Your confirmation code is ${code}\n\n` +
        `Enter it on the settings page to confirm that our emails reach you. ${expiry}\n` +
        'If you did not ask for this, nothing changes unless the code is entered; as only someone signed in ' +
        'to your account can ask for it, change your password.\n',
    };
  }
  return {
    subject: `Your ${site} sign-in code`,
    text:
      `Your ${site} sign-in code is ${code}\n\n${expiry}` +
      'If you did not just try to sign in, someone may know your password: change it.\n',
  };
}

export type EmailOtpFailure = 'invalid_code' | 'email_code_expired' | 'email_code_attempts_exhausted';

/**
 * Checks an emailed code for the sign-in attempt it was sent for, and only that one (ASVS 5.0 6.6.2).
 * Each attempt is charged before it is evaluated, so concurrent guesses cannot exceed the cap; after
 * the cap even the right code is refused and a new one must be requested. On top of that per-code cap, the
 * account's throttle is charged first, like every second factor (throttle.ts).
 */
export async function verifyEmailOtp(
  deps: ServiceDeps,
  input: { userId: string; attemptId: string; code: string; context: RequestContext },
): Promise<Result<EmailCodeVerification, EmailOtpFailure> | Throttled> {
  const { userId, context } = input;
  const subject = { accountKey: accountThrottleKey(userId), userId, kind: 'second_factor', context } as const;
  return throttled(deps, subject, () => evaluateEmailOtp(deps, input));
}

/**
 * The same check without the account throttle, for a signed-in user confirming a new email factor of their
 * own (like TOTP enrollment): no account is being broken into, and the per-code cap still applies.
 */
export async function evaluateEmailOtp(
  deps: ServiceDeps,
  input: { userId: string; attemptId: string; code: string; context: RequestContext },
): Promise<Result<{ challengeId: string }, EmailOtpFailure>> {
  const { store, clock } = deps;
  const now = clock.now();
  const refuse = async (error: EmailOtpFailure, challengeId: string | null) => {
    await store.appendAuditEvent(
      auditEvent(now, 'email_otp_failed', 'failure', input.userId, input.context, {
        reason: error,
        challengeId,
      }),
    );
    return fail(error);
  };
  const challenge = await store.findEmailOtpChallenge(input.attemptId);
  if (!challenge || challenge.userId !== input.userId || challenge.consumedAt !== null) {
    return refuse('invalid_code', challenge?.id ?? null);
  }
  if (isEmailOtpExpired(challenge.expiresAt, now)) return refuse('email_code_expired', challenge.id);
  const { charged } = await store.chargeEmailOtpAttempt(challenge.id, deps.options.emailOtp.maxAttempts);
  if (!charged) return refuse('email_code_attempts_exhausted', challenge.id);
  if (!emailOtpMatches(input.code, challenge.id, challenge.digest, deps.keys.emailOtpKey)) {
    return refuse('invalid_code', challenge.id);
  }
  const won = await store.transaction(async (tx) => {
    const { consumed } = await tx.consumeEmailOtpChallenge(challenge.id, now);
    if (consumed) {
      await tx.appendAuditEvent(
        auditEvent(now, 'email_otp_verified', 'success', input.userId, input.context, {
          challengeId: challenge.id,
        }),
      );
    }
    return consumed;
  });
  return won ? ok({ challengeId: challenge.id }) : refuse('invalid_code', challenge.id);
}
