import { loadCommonPasswords } from '../../src/config/common-passwords.js';
import { MINIMUM_TEST_PASSWORD_PARAMS } from '../../src/core/password.js';
import { type Argon2idParams, argon2idKdf } from '../../src/core/recovery-code-digest.js';
import { deriveServerKeys } from '../../src/core/server-keys.js';
import { DEFAULT_TOTP_SETTINGS } from '../../src/core/totp.js';
import { fetchOutboundHttp } from '../../src/outbound/fetch-outbound-http.js';
import { type ServiceDeps, systemClock } from '../../src/service/deps.js';
import { systemRandom } from '../../src/service/ports/system-random.js';
import { generateRecoveryCodes } from '../../src/service/recovery-codes/generate-recovery-codes.js';
import { backendAuthority } from '../../src/service/sign-in/change-authority.js';
import type { Store } from '../../src/store/store.js';

/** Benchmarks measure the cost per attempt, not the throttle: no failure limit engages. */
const NEVER = {
  freeFailures: Number.MAX_SAFE_INTEGER,
  baseDelayMs: 0,
  maxDelayMs: 0,
  lockAfter: null,
  forgetAfterMs: null,
};

/** The services as production wires them (argon2id, system clock and CSPRNG), on `store`, unthrottled. */
export function benchDeps(
  store: Store,
  kdfParams: Argon2idParams,
  overrides: Partial<ServiceDeps> = {},
): ServiceDeps {
  return {
    store,
    clock: systemClock,
    random: systemRandom,
    kdf: argon2idKdf,
    keys: deriveServerKeys(new Uint8Array(32).fill(9)),
    mailer: { send: async () => {} },
    outboundHttp: fetchOutboundHttp,
    options: {
      kdfParams,
      issuer: 'bench',
      totp: DEFAULT_TOTP_SETTINGS,
      emailOtp: { enabled: false, ttlMs: 600_000, digits: 6, maxAttempts: 5 },
      password: { params: MINIMUM_TEST_PASSWORD_PARAMS, commonPasswords: loadCommonPasswords() },
      notifications: false,
      timeZone: 'UTC',
      throttle: { account: NEVER, address: NEVER, emailSend: NEVER, emailSendAddress: NEVER },
    },
    ...overrides,
  };
}

/**
 * A user with two-factor on (a confirmed email factor: codes are generated only for accounts with MFA)
 * and a fresh recovery-code set; returns the codes.
 */
export async function userWithCodes(
  deps: ServiceDeps,
  email: string,
  at = new Date(),
): Promise<{ userId: string; codes: string[] }> {
  const userId = deps.random.uuid();
  await deps.store.createUser({
    id: userId,
    email,
    passwordHash: null,
    roles: ['subscriber'],
    createdAt: at,
  });
  const factorId = deps.random.uuid();
  await deps.store.createFactor({
    id: factorId,
    userId,
    kind: 'email',
    secretCiphertext: null,
    createdAt: at,
  });
  await deps.store.confirmFactor(userId, factorId, at);
  const set = await generateRecoveryCodes(deps, {
    userId,
    authority: backendAuthority({ kind: 'library', actorId: 'bench' }),
    context: {},
  });
  if (!set.ok) throw new Error(set.error);
  return { userId, codes: [...set.value.codes] };
}
