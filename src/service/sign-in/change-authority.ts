import type { Store } from '../../store/store.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { rotateSessionWithin } from '../sessions/sessions.js';
import { type StepUpProof, spendStepUpProof } from './step-up.js';

/** Who acts for a backend: an API key with a write scope, the library's host app, the CLI, an administrator. */
export type BackendActorKind = 'api_key' | 'library' | 'cli' | 'admin';

let issueBackendAuthority: (kind: BackendActorKind, actorId: string) => BackendAuthority;
let isIssuedAuthority: (value: unknown) => value is BackendAuthority;

/**
 * The authority of a trusted backend to change any account without an end user's step-up (the site's
 * backend re-authenticated its user itself, or an operator acts). Nominal like StepUpProof: an object
 * literal `{ kind: 'backend', actorId }` is not one. Only the API-key routes, the library, the CLI and the
 * admin paths call backendAuthority; the layering test keeps the pages and the session API away from it.
 */
export class BackendAuthority {
  readonly kind = 'backend' as const;
  /** Only objects this class constructed have it: what makes the type nominal and the runtime check sound. */
  readonly #issued = true;
  private constructor(
    readonly actorKind: BackendActorKind,
    readonly actorId: string,
  ) {}
  static {
    issueBackendAuthority = (kind, actorId) => new BackendAuthority(kind, actorId);
    isIssuedAuthority = (value): value is BackendAuthority =>
      typeof value === 'object' && value !== null && #issued in value;
  }
}

export function backendAuthority(actor: { kind: BackendActorKind; actorId: string }): BackendAuthority {
  return issueBackendAuthority(actor.kind, actor.actorId);
}

/**
 * What regenerate recovery codes, remove a factor, disable two-factor and change password require: an end
 * user's session brings a step-up proof (only verifyStepUp makes one), a backend its own authority.
 */
export type ChangeAuthority = StepUpProof | BackendAuthority;

/** After a change made with a step-up proof, the session's new token (the old one is dead). */
export interface SessionRotation {
  token?: string;
}

/**
 * Spends the authority for a change to `userId`'s account and returns the session the change must rotate
 * (a proof's; none for a backend). A look-alike, a spent proof or another account's throws: that is a bug
 * in an edge, never user input.
 */
export function authorizeChange(
  authority: ChangeAuthority,
  userId: string,
): { sessionToken: string | undefined } {
  if (isIssuedAuthority(authority)) return { sessionToken: undefined };
  return spendStepUpProof(authority, userId);
}

/**
 * The rotation as the first write of the change's transaction, so a session ended meanwhile (signed out,
 * a password change elsewhere) changes nothing at all: undefined then. No rotation when there is no session.
 */
export async function rotateWithChange(
  deps: ServiceDeps,
  tx: Store,
  input: { sessionToken: string | undefined; userId: string; context: RequestContext },
): Promise<{ rotation: SessionRotation; keptIdHash: string | undefined } | undefined> {
  if (input.sessionToken === undefined) return { rotation: {}, keptIdHash: undefined };
  const rotated = await rotateSessionWithin(deps, tx, { token: input.sessionToken, context: input.context });
  if (!rotated) return undefined;
  // Thrown, so the transaction rolls the other account's rotation back: a proof names its own session.
  if (rotated.userId !== input.userId) throw new Error('a step-up proof names a session of its own account');
  return { rotation: { token: rotated.token }, keptIdHash: rotated.idHash };
}
