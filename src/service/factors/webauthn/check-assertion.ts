import type {
  AuthenticationResponseJSON,
  AuthenticatorTransport,
  VerifiedAuthenticationResponse,
} from '@simplewebauthn/server';
import { fail, ok, type Result } from '../../../core/result.js';
import type { WebauthnCeremony, WebauthnCredentialRecord } from '../../../store/store.js';
import { auditEvent } from '../../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../../deps.js';
import { emitWebhookEvent } from '../../webhooks/webhooks.js';
import { spendChallenge, userHandleText, webauthnSettings } from './challenges.js';
import { webauthnHelpers, webauthnLibrary } from './webauthn-library.js';

export type AssertionFailure =
  | 'security_keys_unavailable'
  | 'webauthn_challenge_invalid'
  | 'security_key_not_recognized'
  | 'security_key_failed'
  | 'security_key_counter_regressed';

/**
 * The authentication ceremony's checks, shared by the second step, step-up and passkey sign-in (W3C
 * WebAuthn L2 7.2): the challenge is spent (once, for this ceremony and binding, unexpired), the key must be
 * registered (to `userId` when one is expected), @simplewebauthn/server verifies the client data, origin,
 * RP ID, flags and signature, and the signature counter must move forward (6.1.1). A counter that goes
 * backwards on a correctly signed response is refused and audited as a possible cloned key.
 */
export async function checkAssertion(
  deps: ServiceDeps,
  input: {
    ceremony: WebauthnCeremony;
    binding: string;
    /** The account the key must belong to; null for passkey sign-in (the key names its account). */
    userId: string | null;
    requireUserVerification: boolean;
    response: AuthenticationResponseJSON;
    context: RequestContext;
  },
): Promise<Result<{ userId: string; credential: WebauthnCredentialRecord }, AssertionFailure>> {
  const settings = webauthnSettings(deps);
  if (!settings) return fail('security_keys_unavailable');
  const refuse = async (error: AssertionFailure, userId: string | null, details: Record<string, string>) => {
    await deps.store.appendAuditEvent(
      auditEvent(deps.clock.now(), 'webauthn_failed', 'failure', userId, input.context, {
        ceremony: input.ceremony,
        ...details,
      }),
    );
    return fail(error);
  };
  const spent = await spendChallenge(deps, input);
  if (!spent || (input.userId !== null && spent.userId !== input.userId)) {
    return refuse('webauthn_challenge_invalid', input.userId, { reason: 'challenge' });
  }
  const credentialId = typeof input.response?.id === 'string' ? input.response.id.slice(0, 1024) : '';
  const credential = credentialId ? await deps.store.findWebauthnCredential(credentialId) : undefined;
  const owner = credential?.userId ?? null;
  if (!credential || (input.userId !== null && owner !== input.userId)) {
    return refuse('security_key_not_recognized', input.userId, { reason: 'unknown_key' });
  }
  // A passkey names its account (the user handle we gave it at registration): it must be the key's owner.
  const handle = input.response.response?.userHandle;
  if (handle !== undefined && handle !== userHandleText(credential.userId)) {
    return refuse('security_key_not_recognized', input.userId, { reason: 'user_handle' });
  }
  const failed = (reason: string) =>
    refuse('security_key_failed', credential.userId, { factorId: credential.id, reason });
  const [{ verifyAuthenticationResponse }, { isoBase64URL }] = await Promise.all([
    webauthnLibrary(),
    webauthnHelpers(),
  ]);
  let verified: VerifiedAuthenticationResponse;
  try {
    verified = await verifyAuthenticationResponse({
      response: input.response,
      expectedChallenge: spent.challenge,
      expectedOrigin: [...settings.origins],
      expectedRPID: settings.rpId,
      // Counter 0 turns the library's own counter check off: ours runs after the signature is known good,
      // so only a validly signed response is ever reported as a possible clone.
      credential: {
        id: credential.credentialId,
        publicKey: isoBase64URL.toBuffer(credential.publicKey),
        counter: 0,
        transports: credential.transports as AuthenticatorTransport[],
      },
      requireUserVerification: input.requireUserVerification,
    });
  } catch (error) {
    return failed(error instanceof Error ? error.message.slice(0, 200) : 'invalid');
  }
  if (!verified.verified) return failed('signature');
  const { newCounter, credentialBackedUp } = verified.authenticationInfo;
  const now = deps.clock.now();
  const { recorded } = await deps.store.recordWebauthnUse(credential.id, {
    counter: newCounter,
    backedUp: credentialBackedUp,
    at: now,
  });
  if (!recorded) return counterRegressed(deps, input, credential, newCounter);
  await deps.store.appendAuditEvent(
    auditEvent(now, 'webauthn_verified', 'success', credential.userId, input.context, {
      ceremony: input.ceremony,
      factorId: credential.id,
      userVerified: verified.authenticationInfo.userVerified,
    }),
  );
  return ok({ userId: credential.userId, credential });
}

async function counterRegressed(
  deps: ServiceDeps,
  input: { ceremony: WebauthnCeremony; context: RequestContext },
  credential: WebauthnCredentialRecord,
  reported: number,
): Promise<Result<never, AssertionFailure>> {
  const now = deps.clock.now();
  const stored =
    (await deps.store.findWebauthnCredential(credential.credentialId))?.counter ?? credential.counter;
  await deps.store.transaction(async (tx) => {
    await tx.appendAuditEvent(
      auditEvent(now, 'webauthn_counter_regressed', 'failure', credential.userId, input.context, {
        ceremony: input.ceremony,
        factorId: credential.id,
        storedCounter: stored,
        reportedCounter: reported,
        possibleClone: true,
      }),
    );
    await emitWebhookEvent(deps, tx, {
      type: 'security_key.counter_regressed',
      at: now,
      userId: credential.userId,
      context: input.context,
      data: { factorId: credential.id, storedCounter: stored, reportedCounter: reported },
    });
  });
  return fail('security_key_counter_regressed');
}
