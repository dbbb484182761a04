import { parseEmailAddress } from '../../core/email-address.js';
import {
  createDummyPasswordHash,
  hashPassword,
  type PasswordProblem,
  passwordProblem,
  verifyPassword,
} from '../../core/password.js';
import { DEFAULT_USER_ROLE } from '../../core/policy.js';
import { fail, ok, type Result } from '../../core/result.js';
import type { UserRecord } from '../../store/store.js';
import { listRoles } from '../admin/roles.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { hasConfirmedFactor } from '../factors/mfa-state.js';
import { throttled } from '../throttle/throttle.js';
import {
  accountThrottleKey,
  isSecondFactorLocked,
  type Throttled,
  unknownAccountThrottleKey,
} from '../throttle/throttle-counters.js';
import { sendUnlockLink } from '../throttle/unlock-link.js';

export type SignUpFailure = 'invalid_email' | PasswordProblem | 'email_taken' | 'unknown_role';

/** The password rules of NIST SP 800-63B 5.1.1.2: length and a blocklist, no composition rules. */
export function checkNewPassword(
  deps: ServiceDeps,
  input: { email?: string; password: string },
): PasswordProblem | undefined {
  return passwordProblem(input.password, {
    email: input.email,
    commonPasswords: deps.options.password.commonPasswords,
  });
}

/** An account an administrator created (`users.create`, `sparekey user add`). */
export interface CreatedUser {
  userId: string;
}

/**
 * Creates an account with a password (argon2id, peppered) and the given roles (the default role when
 * omitted). For trusted callers only: an administrator (API key with the `admin` scope, the CLI, the
 * library's host application) or the first-administrator setup. Public sign-up is `signUp` in
 * sign-up.ts, which takes no roles and never says whether an address already has an account.
 */
export async function createUser(
  deps: ServiceDeps,
  input: { email: string; password: string; roles?: readonly string[]; context: RequestContext },
): Promise<Result<CreatedUser, SignUpFailure>> {
  const email = parseEmailAddress(input.email);
  if (!email.ok) return email;
  const problem = checkNewPassword(deps, { email: email.value, password: input.password });
  if (problem) return fail(problem);
  // Only roles that exist: a typo would otherwise create an account nothing recognises.
  if (input.roles !== undefined) {
    const known = new Set(await listRoles(deps));
    if (!input.roles.every((role) => known.has(role))) return fail('unknown_role');
  }
  const passwordHash = await hashPassword(input.password, {
    pepper: deps.keys.passwordPepper,
    params: deps.options.password.params,
  });
  const userId = deps.random.uuid();
  const now = deps.clock.now();
  const roles = input.roles ?? [DEFAULT_USER_ROLE];
  return deps.store.transaction(async (tx) => {
    const created = await tx.createUser({
      id: userId,
      email: email.value,
      passwordHash,
      roles,
      createdAt: now,
    });
    if (!created.created) return fail('email_taken');
    await tx.appendAuditEvent(
      auditEvent(now, 'user_created', 'success', userId, input.context, { roles: roles.join(',') }),
    );
    return ok({ userId });
  });
}

const dummyHashes = new WeakMap<ServiceDeps, Promise<string>>();

/** A hash of a random password, made once per process, so unknown emails cost one verify too. */
function dummyHash(deps: ServiceDeps): Promise<string> {
  let hash = dummyHashes.get(deps);
  if (!hash) {
    hash = createDummyPasswordHash(deps.random, deps.keys.passwordPepper, deps.options.password.params);
    dummyHashes.set(deps, hash);
  }
  return hash;
}

export interface PasswordSignIn {
  user: UserRecord;
  /** True when a second factor is owed before the session counts as signed in. */
  secondFactorRequired: boolean;
  /** True when too many wrong attempts locked the second factors: an unlock link was emailed. */
  secondFactorLocked: boolean;
}

/**
 * Checks an email and password. The answer never says which of the two was wrong, and an unknown email
 * runs the same argon2id verification as a known one, so neither the message nor the timing tells
 * whether an account exists (OWASP Authentication CS).
 *
 * Throttled per account and per address, charged before the password is checked; an unknown email gets a
 * counter of its own, so being throttled does not reveal whether the account exists either. A right
 * password only gives back its own charge while a second factor is owed: the account's failures start over
 * only once the sign-in is complete.
 */
export async function signInWithPassword(
  deps: ServiceDeps,
  input: { email: string; password: string; context: RequestContext },
): Promise<Result<PasswordSignIn, 'wrong_credentials'> | Throttled> {
  const email = parseEmailAddress(input.email);
  const user = email.ok ? await deps.store.findUserByEmail(email.value) : undefined;
  const accountKey = user
    ? accountThrottleKey(user.id)
    : email.ok
      ? unknownAccountThrottleKey(email.value)
      : null;
  const subject = { accountKey, userId: user?.id ?? null, kind: 'sign_in', context: input.context } as const;
  // Started the moment the charge is allowed, so argon2id runs while the charge is flushed (throttle.ts).
  let checking: Promise<boolean> | undefined;
  const startChecking = () => {
    checking ??= passwordMatches(deps, user, input.password);
    checking.catch(() => undefined);
    return checking;
  };
  const result = await throttled(
    deps,
    subject,
    () => checkPassword(deps, user, input, startChecking()),
    (signIn) => (signIn.secondFactorRequired ? 'refund' : 'reset'),
    startChecking,
  );
  // Asked once the attempt is settled: its own charge, now given back, must not count toward the lock.
  if (!result.ok || !result.value.secondFactorRequired) return result;
  if (!(await isSecondFactorLocked(deps, result.value.user.id))) return result;
  // The password is the first half of the unlock; the emailed link is the second.
  await sendUnlockLink(deps, {
    userId: result.value.user.id,
    context: input.context,
    reason: 'signed_in_while_locked',
  });
  return ok({ ...result.value, secondFactorLocked: true });
}

async function passwordMatches(
  deps: ServiceDeps,
  user: UserRecord | undefined,
  password: string,
): Promise<boolean> {
  const hash = user?.passwordHash ?? (await dummyHash(deps));
  return verifyPassword(password, hash, { pepper: deps.keys.passwordPepper });
}

async function checkPassword(
  deps: ServiceDeps,
  user: UserRecord | undefined,
  input: { password: string; context: RequestContext },
  matching: Promise<boolean>,
): Promise<Result<PasswordSignIn, 'wrong_credentials'>> {
  const matches = await matching;
  if (!user?.passwordHash || !matches) {
    await deps.store.appendAuditEvent(
      auditEvent(deps.clock.now(), 'sign_in_failed', 'failure', user?.id ?? null, input.context, {
        reason: 'wrong_credentials',
      }),
    );
    return fail('wrong_credentials');
  }
  const secondFactorRequired = hasConfirmedFactor(await deps.store.listFactors(user.id));
  if (secondFactorRequired) {
    // Half a sign-in, on record: a right password followed by failed second factors is how an operator
    // sees that someone else knows the password. (Without two-factor the session's `sign_in` says it all.)
    await deps.store.appendAuditEvent(
      auditEvent(deps.clock.now(), 'password_verified', 'success', user.id, input.context, {
        secondFactorRequired: true,
      }),
    );
  }
  return ok({ user, secondFactorRequired, secondFactorLocked: false });
}

/** Re-checks the signed-in user's password (step-up before sensitive changes). */
export async function checkUserPassword(
  deps: ServiceDeps,
  input: { userId: string; password: string },
): Promise<boolean> {
  const user = await deps.store.findUserById(input.userId);
  const matches = await passwordMatches(deps, user, input.password);
  return Boolean(user?.passwordHash) && matches;
}
