import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { ok, type Result } from '../../../core/result.js';
import type { RequestContext, ServiceDeps } from '../../deps.js';
import type { Throttled } from '../../throttle/throttle-counters.js';
import type { FactorConfirmation } from '../complete-enrollment.js';
import {
  passkeySignInOptions,
  securityKeyAuthenticationOptions,
  verifySecurityKey,
} from './authenticate-key.js';
import type { AssertionFailure } from './check-assertion.js';
import {
  type KeyRegistrationFailure,
  registerSecurityKey,
  securityKeyRegistrationOptions,
} from './register-key.js';

/*
 * Security keys for a host application that draws its own pages and calls SpareKey from its backend (the
 * by-user API routes, the library). The host holds no SpareKey session, so each ceremony is bound to a
 * random ceremony id instead: SpareKey makes it with the options, the host keeps it with its own session
 * and sends it back with the key's answer. The challenge is bound to that id and to the user, so an answer
 * made for another ceremony, another user or another app's call is refused (STANDARDS req 62).
 */

/** 32 random bytes as base64url (43 characters): as unguessable as the challenge it binds. */
const CEREMONY_ID_BYTES = 32;
export const MAX_CEREMONY_ID_LENGTH = 64;

/** A ceremony's options with the id that binds its challenge; keep the id with your session, not the page. */
export interface HostCeremony<Options> {
  ceremonyId: string;
  options: Options;
}

const newCeremonyId = (deps: ServiceDeps) =>
  Buffer.from(deps.random.bytes(CEREMONY_ID_BYTES)).toString('base64url');

/** Options for navigator.credentials.create() for `userId`, bound to a new ceremony id. */
export async function startHostKeyRegistration(
  deps: ServiceDeps,
  input: { userId: string },
): Promise<Result<HostCeremony<PublicKeyCredentialCreationOptionsJSON>, KeyRegistrationFailure>> {
  const ceremonyId = newCeremonyId(deps);
  const options = await securityKeyRegistrationOptions(deps, { userId: input.userId, binding: ceremonyId });
  return options.ok ? ok({ ceremonyId, options: options.value }) : options;
}

/** Finishes a registration started with startHostKeyRegistration; the first factor gives the first codes. */
export function finishHostKeyRegistration(
  deps: ServiceDeps,
  input: {
    userId: string;
    ceremonyId: string;
    name: string;
    response: RegistrationResponseJSON;
    context: RequestContext;
  },
): Promise<Result<FactorConfirmation, KeyRegistrationFailure>> {
  return registerSecurityKey(deps, {
    userId: input.userId,
    binding: input.ceremonyId,
    name: input.name,
    response: input.response,
    context: input.context,
  });
}

/** Options for navigator.credentials.get() with the user's own keys, bound to a new ceremony id. */
export async function startHostKeyAuthentication(
  deps: ServiceDeps,
  input: { userId: string },
): Promise<
  Result<
    HostCeremony<PublicKeyCredentialRequestOptionsJSON>,
    'security_keys_unavailable' | 'factor_not_found'
  >
> {
  const ceremonyId = newCeremonyId(deps);
  const options = await securityKeyAuthenticationOptions(deps, {
    userId: input.userId,
    binding: ceremonyId,
    ceremony: 'second_factor',
  });
  return options.ok ? ok({ ceremonyId, options: options.value }) : options;
}

/** A key's accepted answer: the factor (security key) it came from. */
export interface SecurityKeyVerification {
  factorId: string;
}

/**
 * Verifies the key's answer as the user's second factor: the challenge of `ceremonyId` is spent (once),
 * the key must be the user's, and the attempt is charged to the account like every second factor.
 */
export function verifyHostKeyAuthentication(
  deps: ServiceDeps,
  input: {
    userId: string;
    ceremonyId: string;
    response: AuthenticationResponseJSON;
    context: RequestContext;
  },
): Promise<Result<SecurityKeyVerification, AssertionFailure> | Throttled> {
  return verifySecurityKey(deps, {
    userId: input.userId,
    binding: input.ceremonyId,
    response: input.response,
    ceremony: 'second_factor',
    context: input.context,
  });
}

/**
 * "Sign in with a passkey" for an app that draws SpareKey's flows (the JSON sign-in): options for a
 * discoverable credential, bound to a new ceremony id the app keeps until it sends the answer
 * (beginPasskeySignIn takes it back as the binding).
 */
export async function startPasskeySignIn(
  deps: ServiceDeps,
): Promise<
  Result<
    HostCeremony<PublicKeyCredentialRequestOptionsJSON>,
    'security_keys_unavailable' | 'passkey_sign_in_disabled'
  >
> {
  const ceremonyId = newCeremonyId(deps);
  const options = await passkeySignInOptions(deps, { binding: ceremonyId });
  return options.ok ? ok({ ceremonyId, options: options.value }) : options;
}
