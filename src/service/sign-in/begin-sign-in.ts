import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { mfaSetupRequired } from '../../core/policy.js';
import { fail, ok, type Result } from '../../core/result.js';
import { signInWithPassword } from '../accounts/accounts.js';
import { loadRecoveryCodeSettings } from '../admin/settings.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { secondFactorChoices } from '../factors/manage-mfa.js';
import { isMfaEnabled } from '../factors/mfa-state.js';
import { signInWithPasskey } from '../factors/webauthn/authenticate-key.js';
import type { AssertionFailure } from '../factors/webauthn/check-assertion.js';
import { recognizeDevice } from '../sessions/remembered-devices.js';
import { startSession } from '../sessions/sessions.js';
import type { Throttled } from '../throttle/throttle-counters.js';

/**
 * Where a sign-in stands once the first step (a password, or a passkey) is done. Every outcome carries the
 * token of the session it started: the edge only hands it over (a cookie, or a JSON field).
 * - `signed_in`: done (no second factor set up, or a passkey, which is both factors).
 * - `remembered_browser`: done; the second step was skipped for a browser the person asked to remember.
 * - `second_factor`: the session owes a second factor; `methods` are the ones this account can use.
 * - `second_factor_locked`: the same, but too many wrong codes locked the second factors: an unlock link
 *   was emailed, and no code (nor a remembered browser) is accepted until it is used.
 * - `two_factor_setup_required`: signed in, but the person's role must set up two-factor, and has not:
 *   until they do, only the two-factor settings are for them (the operator's "roles that must use 2FA").
 * A refusal (wrong credentials, throttled) is the failure of the Result.
 */
export type SignInOutcome =
  | { kind: 'signed_in'; userId: string; token: string; method: 'password' | 'passkey' }
  | { kind: 'remembered_browser'; userId: string; token: string }
  | { kind: 'second_factor'; userId: string; token: string; methods: SecondFactorChoices }
  | { kind: 'second_factor_locked'; userId: string; token: string; methods: SecondFactorChoices }
  | { kind: 'two_factor_setup_required'; userId: string; token: string };

export type SignInResult = Result<SignInOutcome, 'wrong_credentials'> | Throttled;

/**
 * Begins a sign-in with an email and password, for every edge (pages, JSON API, the OpenID Connect
 * interaction, which reuses the pages). `rememberedBrowser` is what the browser or app presents from an
 * earlier "remember this browser" (the cookie's value, or the token the JSON API returned): when it names a
 * live remembered browser of this account, the second step is skipped. `previousToken` is the session the
 * caller already had, ended so a sign-in always gets a fresh token (session fixation).
 */
export async function beginSignIn(
  deps: ServiceDeps,
  input: {
    email: string;
    password: string;
    rememberedBrowser?: string;
    previousToken?: string;
    context: RequestContext;
  },
): Promise<SignInResult> {
  const checked = await signInWithPassword(deps, input);
  if (!checked.ok) return checked;
  const { user, secondFactorRequired, secondFactorLocked } = checked.value;
  const session = (stage: 'second_factor' | 'signed_in', method: 'password' | 'remembered_device') =>
    startSession(deps, {
      userId: user.id,
      stage,
      method,
      previousToken: input.previousToken,
      context: input.context,
    });
  if (!secondFactorRequired)
    return ok(await signedInOutcome(deps, user, await session('signed_in', 'password')));
  // A lock is lifted by the emailed unlock link, not by a remembered browser.
  if (secondFactorLocked) {
    const { token } = await session('second_factor', 'password');
    return ok({ kind: 'second_factor_locked', userId: user.id, token, ...(await methodsOf(deps, user.id)) });
  }
  const remembered =
    input.rememberedBrowser !== undefined &&
    (await recognizeDevice(deps, { userId: user.id, cookieValue: input.rememberedBrowser })) !== undefined;
  if (remembered) {
    const { token } = await session('signed_in', 'remembered_device');
    return ok({ kind: 'remembered_browser', userId: user.id, token });
  }
  const { token } = await session('second_factor', 'password');
  return ok({ kind: 'second_factor', userId: user.id, token, ...(await methodsOf(deps, user.id)) });
}

/**
 * Signs in with a passkey alone (both factors): the same outcomes as a password that needs no second step,
 * so an account whose role must set up two-factor is told so here too.
 */
export async function beginPasskeySignIn(
  deps: ServiceDeps,
  input: {
    binding: string;
    response: AuthenticationResponseJSON;
    previousToken?: string;
    context: RequestContext;
  },
): Promise<Result<SignInOutcome, AssertionFailure | 'passkey_sign_in_disabled'> | Throttled> {
  const checked = await signInWithPasskey(deps, input);
  if (!checked.ok) return checked;
  const user = await deps.store.findUserById(checked.value.userId);
  // The key's account was erased between the assertion and now: nothing to sign in to.
  if (!user) return fail('security_key_failed');
  const session = await startSession(deps, {
    userId: user.id,
    stage: 'signed_in',
    method: 'passkey',
    previousToken: input.previousToken,
    context: input.context,
  });
  return ok(await signedInOutcome(deps, user, session, 'passkey'));
}

/** A sign-in that needs no second step: done, unless the person's role must set up two-factor first. */
async function signedInOutcome(
  deps: ServiceDeps,
  user: { id: string; roles: readonly string[] },
  session: { token: string },
  method: 'password' | 'passkey' = 'password',
): Promise<SignInOutcome> {
  if (await twoFactorSetupOwed(deps, user))
    return { kind: 'two_factor_setup_required', userId: user.id, token: session.token };
  return { kind: 'signed_in', userId: user.id, token: session.token, method };
}

/**
 * The operator's "these roles must set up two-factor" (like Keycloak's CONFIGURE_TOTP required action):
 * true while one of the person's roles is marked and they have no confirmed second factor.
 */
export async function twoFactorSetupOwed(
  deps: ServiceDeps,
  user: { id: string; roles: readonly string[] },
): Promise<boolean> {
  const settings = await loadRecoveryCodeSettings(deps.store);
  if (!user.roles.some((role) => settings.mfaRequiredRoles.includes(role))) return false;
  return mfaSetupRequired(settings, {
    roles: user.roles,
    mfaEnabled: await isMfaEnabled(deps.store, user.id),
  });
}

export type SecondFactorChoices = Awaited<ReturnType<typeof secondFactorChoices>>;

async function methodsOf(deps: ServiceDeps, userId: string): Promise<{ methods: SecondFactorChoices }> {
  return { methods: await secondFactorChoices(deps, { userId }) };
}
