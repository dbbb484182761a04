import { generateSessionToken, hashSessionToken } from '../core/session-token.js';
import type { Store } from '../store/store.js';
import type { ServiceDeps } from './deps.js';

/**
 * A single-use emailed link's token (unlock, password reset): 256 bits from the CSPRNG, stored only as its
 * SHA-256, live for `ttlMs`. Written with `tx`, so it exists exactly when the caller's audit event does.
 */
export async function issueActionToken(
  deps: ServiceDeps,
  tx: Store,
  input: { purpose: string; userId: string; at: Date; ttlMs: number },
): Promise<string> {
  const token = generateSessionToken(deps.random);
  await tx.createActionToken({
    idHash: hashSessionToken(token) as string,
    purpose: input.purpose,
    userId: input.userId,
    createdAt: input.at,
    expiresAt: new Date(input.at.getTime() + input.ttlMs),
  });
  return token;
}
