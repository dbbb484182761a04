import type {
  PublicKeyCredentialCreationOptionsJSON,
  RegistrationResponseJSON,
  VerifiedRegistrationResponse,
} from '@simplewebauthn/server';
import { fail, ok, type Result } from '../../../core/result.js';
import { accountLabel } from '../../accounts/account-label.js';
import { auditEvent } from '../../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../../deps.js';
import { notifySecurityKeyChanged } from '../../notifications/notifications.js';
import { emitWebhookEvent } from '../../webhooks/webhooks.js';
import { completeEnrollment, type FactorConfirmation } from '../complete-enrollment.js';
import {
  issueChallenge,
  spendChallenge,
  userHandle,
  WEBAUTHN_CHALLENGE_TTL_MS,
  webauthnSettings,
} from './challenges.js';
import { webauthnLibrary } from './webauthn-library.js';

/** Enough for every key a person owns; it also bounds the excludeCredentials list sent to the browser. */
export const MAX_SECURITY_KEYS = 20;
export const MAX_SECURITY_KEY_NAME_LENGTH = 64;

export type KeyRegistrationFailure =
  | 'security_keys_unavailable'
  | 'user_not_found'
  | 'security_key_limit_reached'
  | 'security_key_name_invalid'
  | 'webauthn_challenge_invalid'
  | 'security_key_failed'
  | 'security_key_already_registered';

/** A key's name as a person typed it: trimmed, 1 to 64 characters, one line. */
export function securityKeyName(text: string): string | undefined {
  const name = text.replace(/\s+/g, ' ').trim();
  return name.length >= 1 && name.length <= MAX_SECURITY_KEY_NAME_LENGTH ? name : undefined;
}

/**
 * Starts adding a security key or passkey: the options for navigator.credentials.create(). Attestation
 * `none` (nothing about the device model is asked for), resident key and user verification preferred, so
 * the key can also be a passkey; the user's keys are excluded, so one key is never registered twice.
 */
export async function securityKeyRegistrationOptions(
  deps: ServiceDeps,
  input: { userId: string; binding: string },
): Promise<Result<PublicKeyCredentialCreationOptionsJSON, KeyRegistrationFailure>> {
  const settings = webauthnSettings(deps);
  if (!settings) return fail('security_keys_unavailable');
  const [user, keys] = await Promise.all([
    deps.store.findUserById(input.userId),
    deps.store.listWebauthnCredentials(input.userId),
  ]);
  if (!user) return fail('user_not_found');
  if (keys.length >= MAX_SECURITY_KEYS) return fail('security_key_limit_reached');
  const challenge = await issueChallenge(deps, {
    ceremony: 'registration',
    binding: input.binding,
    userId: user.id,
  });
  const { generateRegistrationOptions } = await webauthnLibrary();
  return ok(
    await generateRegistrationOptions({
      rpName: settings.rpName,
      rpID: settings.rpId,
      userName: accountLabel(user),
      userID: userHandle(user.id),
      challenge,
      timeout: WEBAUTHN_CHALLENGE_TTL_MS,
      attestationType: 'none',
      excludeCredentials: keys.map((key) => ({ id: key.credentialId, transports: [...key.transports] })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    }),
  );
}

/**
 * Finishes adding a key: the challenge is spent (this session's, for this ceremony, once), the response is
 * verified for our RP ID and origins by @simplewebauthn/server, and the key is stored with its public key,
 * counter, transports and backup flags. The first factor of any kind also gives the first recovery codes
 * (completeEnrollment), shown once.
 */
export async function registerSecurityKey(
  deps: ServiceDeps,
  input: {
    userId: string;
    binding: string;
    name: string;
    response: RegistrationResponseJSON;
    context: RequestContext;
  },
): Promise<Result<FactorConfirmation, KeyRegistrationFailure>> {
  const settings = webauthnSettings(deps);
  if (!settings) return fail('security_keys_unavailable');
  const name = securityKeyName(input.name);
  if (!name) return fail('security_key_name_invalid');
  const [user, factors] = await Promise.all([
    deps.store.findUserById(input.userId),
    deps.store.listFactors(input.userId),
  ]);
  if (!user) return fail('user_not_found');
  const refuse = async (error: KeyRegistrationFailure, reason: string) => {
    await deps.store.appendAuditEvent(
      auditEvent(deps.clock.now(), 'webauthn_registration_failed', 'failure', user.id, input.context, {
        reason,
      }),
    );
    return fail(error);
  };
  const spent = await spendChallenge(deps, { ceremony: 'registration', ...input });
  if (!spent || spent.userId !== user.id) return refuse('webauthn_challenge_invalid', 'challenge');
  const { verifyRegistrationResponse } = await webauthnLibrary();
  let info: VerifiedRegistrationResponse['registrationInfo'];
  try {
    const verified = await verifyRegistrationResponse({
      response: input.response,
      expectedChallenge: spent.challenge,
      expectedOrigin: [...settings.origins],
      expectedRPID: settings.rpId,
      requireUserVerification: false,
    });
    info = verified.registrationInfo;
  } catch (error) {
    // The library's reason (wrong origin, RP ID, type...) goes to the audit log, bounded; never to the page.
    return refuse('security_key_failed', error instanceof Error ? error.message.slice(0, 200) : 'invalid');
  }
  if (!info) return refuse('security_key_failed', 'not_verified');
  const { credential } = info;
  const factorId = deps.random.uuid();
  const now = deps.clock.now();
  const confirmed = await completeEnrollment(deps, {
    user,
    factors,
    factor: { id: factorId },
    kind: 'webauthn',
    now,
    context: input.context,
    persist: async (tx) => {
      const created = await tx.createWebauthnCredential({
        id: factorId,
        userId: user.id,
        credentialId: credential.id,
        publicKey: Buffer.from(credential.publicKey).toString('base64url'),
        counter: credential.counter,
        transports: (credential.transports ?? []).slice(0, 8),
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
        name,
        createdAt: now,
      });
      if (!created.created) return false;
      await emitWebhookEvent(deps, tx, {
        type: 'security_key.added',
        at: now,
        userId: user.id,
        context: input.context,
        data: { factorId, deviceType: info.credentialDeviceType },
      });
      return true;
    },
  });
  if (!confirmed) return refuse('security_key_already_registered', 'credential_taken');
  await notifySecurityKeyChanged(deps, {
    userId: user.id,
    change: 'added',
    name,
    at: now,
    context: input.context,
  });
  return ok(confirmed);
}
