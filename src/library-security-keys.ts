import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { UserRef } from './service/accounts/host-users.js';
import type { RequestContext } from './service/deps.js';
import { backendAuthority } from './service/sign-in/change-authority.js';
import type { UseCases } from './service/use-cases.js';

type Context = RequestContext;
type ForUser = <T>(
  ref: UserRef,
  run: (userId: string) => Promise<T>,
) => Promise<T | { ok: false; error: 'user_not_found' | 'invalid_external_id' }>;

/**
 * The library's security keys and passkeys, by SpareKey's `userId` or your `externalId` (createSpareKey's
 * `webauthn` option sets where they work; without it every method answers `security_keys_unavailable`).
 * Your page runs the browser's part with @simplewebauthn/browser; your backend calls these. Each ceremony's
 * options come with a `ceremonyId`: keep it in your session (not the page) and pass it back with the answer.
 * Each field is passed on by name: an object your app hands over never carries a field of its own choosing.
 */
export function securityKeyMethods(useCases: UseCases, forUser: ForUser) {
  const ctx = (context?: Context): Context => context ?? {};
  return {
    /** Options for `startRegistration({ optionsJSON })` and the ceremony id (5 minutes, once). */
    registrationOptions: (input: UserRef) =>
      forUser(input, (userId) => useCases.startHostKeyRegistration({ userId })),
    /**
     * Stores the key the browser answered with (`name` as the person typed it, 1 to 64 characters). The
     * user's first factor also returns their first recovery codes, once: show those.
     */
    register: (
      input: UserRef & {
        ceremonyId: string;
        name: string;
        response: RegistrationResponseJSON;
        context?: Context;
      },
    ) =>
      forUser(input, (userId) =>
        useCases.finishHostKeyRegistration({
          userId,
          ceremonyId: input.ceremonyId,
          name: input.name,
          response: input.response,
          context: ctx(input.context),
        }),
      ),
    /** Options for `startAuthentication({ optionsJSON })` with the user's keys, and the ceremony id. */
    authenticationOptions: (input: UserRef) =>
      forUser(input, (userId) => useCases.startHostKeyAuthentication({ userId })),
    /** Verifies the answer as the user's second factor (throttled like every second factor). */
    verify: (
      input: UserRef & { ceremonyId: string; response: AuthenticationResponseJSON; context?: Context },
    ) =>
      forUser(input, (userId) =>
        useCases.verifyHostKeyAuthentication({
          userId,
          ceremonyId: input.ceremonyId,
          response: input.response,
          context: ctx(input.context),
        }),
      ),
    /** The user's keys: name, type (single-device or synced), when added and last used. */
    list: (input: UserRef) =>
      forUser(input, async (userId) => ({
        ok: true as const,
        value: await useCases.listSecurityKeys({ userId }),
      })),
    rename: (input: UserRef & { factorId: string; name: string; context?: Context }) =>
      forUser(input, (userId) =>
        useCases.renameSecurityKey({
          userId,
          factorId: input.factorId,
          name: input.name,
          context: ctx(input.context),
        }),
      ),
    /** Removes one key (never the user's last factor: `mfa.disable` for that). Step-up first is your duty. */
    remove: (input: UserRef & { factorId: string; context?: Context }) =>
      forUser(input, (userId) =>
        useCases.removeFactor({
          userId,
          factorId: input.factorId,
          kind: 'webauthn',
          authority: backendAuthority({ kind: 'library', actorId: input.context?.actorId ?? 'library' }),
          context: ctx(input.context),
        }),
      ),
  };
}
