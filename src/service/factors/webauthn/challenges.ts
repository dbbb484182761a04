import { createHash } from 'node:crypto';
import type { WebauthnCeremony } from '../../../store/store.js';
import type { ServiceDeps, WebauthnSettings } from '../../deps.js';
import { webauthnHelpers } from './webauthn-library.js';

/** How long a ceremony may take: the challenge dies 5 minutes after it was issued. */
export const WEBAUTHN_CHALLENGE_TTL_MS = 5 * 60_000;

/** 32 random bytes: W3C WebAuthn L2 13.4.3 asks for at least 16. */
const CHALLENGE_BYTES = 32;

/** The stored form of a binding (a session token or ceremony id): never the value itself. */
const bindingHash = (binding: string) => createHash('sha256').update(binding).digest('hex');

/** The settings, or undefined when security keys are not offered on this server. */
export const webauthnSettings = (deps: ServiceDeps): WebauthnSettings | undefined => deps.options.webauthn;

/**
 * Issues a challenge for one ceremony, bound to `binding` (the session's token, or a ceremony id only the
 * caller knows) and to the user it is for, good for 5 minutes (STANDARDS req 62).
 */
export async function issueChallenge(
  deps: ServiceDeps,
  input: { ceremony: WebauthnCeremony; binding: string; userId: string | null },
): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = new Uint8Array(deps.random.bytes(CHALLENGE_BYTES));
  const now = deps.clock.now();
  await deps.store.createWebauthnChallenge({
    challenge: Buffer.from(bytes).toString('base64url'),
    ceremony: input.ceremony,
    bindingHash: bindingHash(input.binding),
    userId: input.userId,
    createdAt: now,
    expiresAt: new Date(now.getTime() + WEBAUTHN_CHALLENGE_TTL_MS),
  });
  return bytes;
}

/**
 * Spends the challenge the browser signed (read from its client data), for this ceremony and binding only:
 * of two submissions of one response exactly one gets past here. Undefined when it is unknown, expired,
 * already used, or belongs to another ceremony or session.
 */
export async function spendChallenge(
  deps: ServiceDeps,
  input: { ceremony: WebauthnCeremony; binding: string; response: unknown },
): Promise<{ challenge: string; userId: string | null } | undefined> {
  const { decodeClientDataJSON } = await webauthnHelpers();
  const challenge = signedChallenge(input.response, decodeClientDataJSON);
  if (!challenge) return undefined;
  const spent = await deps.store.consumeWebauthnChallenge({
    challenge,
    ceremony: input.ceremony,
    bindingHash: bindingHash(input.binding),
    at: deps.clock.now(),
  });
  return spent.consumed ? { challenge, userId: spent.userId } : undefined;
}

/** The challenge inside a response's client data; undefined for anything malformed. */
function signedChallenge(
  response: unknown,
  decodeClientDataJSON: (data: string) => { challenge?: unknown },
): string | undefined {
  const clientDataJSON = (response as { response?: { clientDataJSON?: unknown } } | null)?.response
    ?.clientDataJSON;
  if (typeof clientDataJSON !== 'string' || clientDataJSON.length > 4096) return undefined;
  try {
    const { challenge } = decodeClientDataJSON(clientDataJSON);
    return typeof challenge === 'string' && challenge.length > 0 && challenge.length <= 128
      ? challenge
      : undefined;
  } catch {
    return undefined;
  }
}

/** The user handle given to authenticators: the account id's bytes (no email, nothing personal). */
export const userHandle = (userId: string) => new Uint8Array(Buffer.from(userId, 'utf8'));
export const userHandleText = (userId: string) => Buffer.from(userId, 'utf8').toString('base64url');
