import { generateSessionToken, hashSessionToken } from '../../core/session-token.js';
import type { NewActionToken, Store } from '../../store/store.js';
import type { ServiceDeps } from '../deps.js';

/**
 * A single-use emailed link's token (unlock, password reset): 256 bits from the CSPRNG, stored only as its
 * SHA-256, live for `ttlMs`. Written with `tx`, so it exists exactly when the caller's audit event does.
 */
export async function issueActionToken(
  deps: ServiceDeps,
  tx: Store,
  input: { purpose: string; userId: string; at: Date; ttlMs: number },
): Promise<string> {
  const { token, record } = newActionToken(deps, input);
  await tx.createActionToken(record);
  return token;
}

/**
 * As issueActionToken, unless the user already has a live token of the purpose (at most one unlock link
 * at a time, even when several sign-ins ask for one at once); undefined then.
 */
export async function issueActionTokenUnlessLive(
  deps: ServiceDeps,
  tx: Store,
  input: { purpose: string; userId: string; at: Date; ttlMs: number },
): Promise<string | undefined> {
  const { token, record } = newActionToken(deps, input);
  return (await tx.createActionTokenUnlessLive(record)).created ? token : undefined;
}

function newActionToken(
  deps: ServiceDeps,
  input: { purpose: string; userId: string; at: Date; ttlMs: number },
): { token: string; record: NewActionToken } {
  const token = generateSessionToken(deps.random);
  return {
    token,
    record: {
      idHash: hashSessionToken(token) as string,
      purpose: input.purpose,
      userId: input.userId,
      createdAt: input.at,
      expiresAt: new Date(input.at.getTime() + input.ttlMs),
    },
  };
}
