import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { fail, ok, type Result } from '../../../core/result.js';
import type { RequestContext, ServiceDeps } from '../../deps.js';
import { throttled } from '../../throttle/throttle.js';
import { accountThrottleKey, type Throttled } from '../../throttle/throttle-counters.js';
import { issueChallenge, WEBAUTHN_CHALLENGE_TTL_MS, webauthnSettings } from './challenges.js';
import { type AssertionFailure, checkAssertion } from './check-assertion.js';
import { webauthnLibrary } from './webauthn-library.js';

/**
 * The options for navigator.credentials.get() when the account is known (the second sign-in step, or
 * step-up): its own keys only, user verification preferred (the password or session is the other factor).
 */
export async function securityKeyAuthenticationOptions(
  deps: ServiceDeps,
  input: { userId: string; binding: string; ceremony: 'second_factor' | 'step_up' },
): Promise<Result<PublicKeyCredentialRequestOptionsJSON, 'security_keys_unavailable' | 'factor_not_found'>> {
  const settings = webauthnSettings(deps);
  if (!settings) return fail('security_keys_unavailable');
  const keys = await deps.store.listWebauthnCredentials(input.userId);
  if (keys.length === 0) return fail('factor_not_found');
  const challenge = await issueChallenge(deps, { ...input, userId: input.userId });
  const { generateAuthenticationOptions } = await webauthnLibrary();
  return ok(
    await generateAuthenticationOptions({
      rpID: settings.rpId,
      challenge,
      timeout: WEBAUTHN_CHALLENGE_TTL_MS,
      userVerification: 'preferred',
      allowCredentials: keys.map((key) => ({ id: key.credentialId, transports: [...key.transports] })),
    }),
  );
}

/**
 * A security key as the second factor. Throttled like every second factor: each attempt is charged to
 * the account (and address) before it is evaluated, and a locked account is refused even with a good key.
 */
export async function verifySecurityKey(
  deps: ServiceDeps,
  input: {
    userId: string;
    binding: string;
    response: AuthenticationResponseJSON;
    ceremony?: 'second_factor' | 'step_up';
    context: RequestContext;
  },
): Promise<Result<{ factorId: string }, AssertionFailure> | Throttled> {
  const { userId, context } = input;
  const subject = { accountKey: accountThrottleKey(userId), userId, kind: 'second_factor', context } as const;
  return throttled(deps, subject, async () => {
    const checked = await checkAssertion(deps, {
      ceremony: input.ceremony ?? 'second_factor',
      binding: input.binding,
      userId,
      requireUserVerification: false,
      response: input.response,
      context,
    });
    return checked.ok ? ok({ factorId: checked.value.credential.id }) : checked;
  });
}

/**
 * "Sign in with a passkey": options for a discoverable credential (no account named yet), with user
 * verification required, because the passkey is both factors (something you have, unlocked by something
 * you know or are). Bound to a ceremony id the caller keeps (a cookie, or the app's own state).
 */
export async function passkeySignInOptions(
  deps: ServiceDeps,
  input: { binding: string },
): Promise<
  Result<PublicKeyCredentialRequestOptionsJSON, 'security_keys_unavailable' | 'passkey_sign_in_disabled'>
> {
  const settings = webauthnSettings(deps);
  if (!settings) return fail('security_keys_unavailable');
  if (!settings.passkeySignIn) return fail('passkey_sign_in_disabled');
  const challenge = await issueChallenge(deps, { ceremony: 'passkey', binding: input.binding, userId: null });
  const { generateAuthenticationOptions } = await webauthnLibrary();
  return ok(
    await generateAuthenticationOptions({
      rpID: settings.rpId,
      challenge,
      timeout: WEBAUTHN_CHALLENGE_TTL_MS,
      userVerification: 'required',
    }),
  );
}

/**
 * Signs in with a passkey alone. The key names its account; the attempt is charged to that account like a
 * second factor, so a locked account stays locked. The edge starts a signed-in session, audited as
 * `sign_in` with method `passkey`.
 */
export async function signInWithPasskey(
  deps: ServiceDeps,
  input: { binding: string; response: AuthenticationResponseJSON; context: RequestContext },
): Promise<Result<{ userId: string }, AssertionFailure | 'passkey_sign_in_disabled'> | Throttled> {
  const settings = webauthnSettings(deps);
  if (!settings) return fail('security_keys_unavailable');
  if (!settings.passkeySignIn) return fail('passkey_sign_in_disabled');
  const credentialId = typeof input.response?.id === 'string' ? input.response.id.slice(0, 1024) : '';
  const owner = credentialId ? (await deps.store.findWebauthnCredential(credentialId))?.userId : undefined;
  const check = () =>
    checkAssertion(deps, {
      ceremony: 'passkey',
      binding: input.binding,
      userId: null,
      requireUserVerification: true,
      response: input.response,
      context: input.context,
    });
  // An unknown key has no account to charge: the address is charged, and the challenge is spent all the same.
  const subject = {
    accountKey: owner ? accountThrottleKey(owner) : null,
    userId: owner ?? null,
    kind: 'second_factor',
    context: input.context,
  } as const;
  const checked = await throttled(deps, subject, check);
  if (!checked.ok) return checked;
  return ok({ userId: checked.value.userId });
}
