import type { WebauthnSettings } from '../../src/service/deps.js';
import {
  registerSecurityKey,
  securityKeyRegistrationOptions,
} from '../../src/service/factors/webauthn/register-key.js';
import type { TestEnvironment } from './service-deps.js';
import { SoftAuthenticator } from './soft-authenticator.js';

export const TEST_ORIGIN = 'https://auth.sparekey.test';
export const TEST_RP_ID = 'sparekey.test';

/** Security keys on for a service-level environment: RP ID sparekey.test, one origin. */
export function enableSecurityKeys(env: TestEnvironment, overrides: Partial<WebauthnSettings> = {}) {
  env.deps.options.webauthn = {
    rpId: TEST_RP_ID,
    rpName: 'SpareKey Test',
    origins: [TEST_ORIGIN],
    passkeySignIn: true,
    ...overrides,
  };
}

/** Registers a software key for the user in the session `binding`; returns the key and the confirmation. */
export async function registerSoftKey(
  env: TestEnvironment,
  userId: string,
  options: { binding?: string; name?: string; userVerified?: boolean } = {},
) {
  const binding = options.binding ?? 'session-token';
  const key = new SoftAuthenticator({
    origin: TEST_ORIGIN,
    rpId: TEST_RP_ID,
    userVerified: options.userVerified,
  });
  const started = await securityKeyRegistrationOptions(env.deps, { userId, binding });
  if (!started.ok) throw new Error(started.error);
  const registered = await registerSecurityKey(env.deps, {
    userId,
    binding,
    name: options.name ?? 'YubiKey 5C',
    response: key.register(started.value),
    context: {},
  });
  if (!registered.ok) throw new Error(registered.error);
  return { key, confirmation: registered.value };
}

/**
 * Security keys on a running web server: browsers refuse an IP address as RP ID, so the server is reached
 * as http://localhost:<port> (a secure context) with RP ID `localhost` and that one origin.
 */
export function useSecurityKeysOn(server: { url: string; env: TestEnvironment }, passkeySignIn = true) {
  server.url = server.url.replace('127.0.0.1', 'localhost');
  enableSecurityKeys(server.env, { rpId: 'localhost', origins: [server.url], passkeySignIn });
}
