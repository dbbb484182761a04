import {
  generateSessionToken,
  hashSessionToken,
  SESSION_LIFETIMES,
  signedInDeadline,
} from '../../core/session-token.js';
import type { SessionRecord, SessionStage, Store, UserRecord } from '../../store/store.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';

/** A session as the edges see it: its stage and whose it is. The token lives only in the cookie. */
export interface ActiveSession {
  record: SessionRecord;
  user: UserRecord;
}

/** Only refresh the idle deadline once a minute, so reading pages is not a database write each time. */
const TOUCH_INTERVAL_MS = 60_000;

function deadlineFor(stage: SessionStage, createdAt: Date, now: Date): Date {
  return stage === 'second_factor'
    ? new Date(now.getTime() + SESSION_LIFETIMES.secondFactorMs)
    : signedInDeadline(createdAt, now);
}

function newSessionRow(
  deps: ServiceDeps,
  input: {
    userId: string;
    stage: SessionStage;
    attemptId: string;
    signInMethod: string | null;
    context: RequestContext;
  },
) {
  const token = generateSessionToken(deps.random);
  const now = deps.clock.now();
  const idHash = hashSessionToken(token) as string;
  return {
    token,
    row: {
      idHash,
      userId: input.userId,
      stage: input.stage,
      attemptId: input.attemptId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: deadlineFor(input.stage, now, now),
      ip: input.context.ip ?? null,
      userAgent: input.context.userAgent?.slice(0, 512) ?? null,
      signInMethod: input.signInMethod,
    },
  };
}

/**
 * Starts a session after a correct password. Any session the browser already had is ended first: a
 * sign-in always gets a fresh token (session fixation, OWASP Session CS).
 */
export async function startSession(
  deps: ServiceDeps,
  input: {
    userId: string;
    stage: SessionStage;
    previousToken?: string;
    /** How a session signed in at once was reached: the password alone, a remembered browser, or a passkey. */
    method?: 'password' | 'remembered_device' | 'passkey';
    context: RequestContext;
  },
): Promise<{ token: string }> {
  const previous = input.previousToken && hashSessionToken(input.previousToken);
  if (previous) await deps.store.deleteSession(previous);
  const { token, row } = newSessionRow(deps, {
    ...input,
    attemptId: deps.random.uuid(),
    signInMethod: input.method ?? 'password',
  });
  await deps.store.createSession(row);
  if (input.stage === 'signed_in')
    await auditSignIn(deps, input.userId, input.context, input.method ?? 'password');
  return { token };
}

/**
 * Rotates the token at an MFA step (second factor done, step-up): the old token dies in the same
 * transaction that creates the new one, and of two concurrent rotations only one gets a token.
 */
export async function rotateSession(
  deps: ServiceDeps,
  input: { token: string; stage: SessionStage; method?: string; context: RequestContext },
): Promise<{ token: string } | undefined> {
  const rotated = await replaceSessionToken(deps, deps.store, input);
  if (!rotated) return undefined;
  if (rotated.previous.stage === 'second_factor' && input.stage === 'signed_in') {
    await auditSignIn(deps, rotated.previous.userId, input.context, input.method ?? 'second_factor');
  }
  return { token: rotated.token };
}

/**
 * Rotation as one write among others in the caller's transaction (a password change): the session keeps its
 * stage, gets a fresh token, and the old token dies with the rest of the change, or not at all.
 */
export async function rotateSessionWithin(
  deps: ServiceDeps,
  tx: Store,
  input: { token: string; context: RequestContext },
): Promise<{ token: string; idHash: string; userId: string } | undefined> {
  const rotated = await replaceSessionToken(deps, tx, input);
  return rotated && { token: rotated.token, idHash: rotated.idHash, userId: rotated.previous.userId };
}

/** Replaces the session's token with a fresh one (its stage too, when given); undefined if it lost. */
async function replaceSessionToken(
  deps: ServiceDeps,
  store: Store,
  input: { token: string; stage?: SessionStage; method?: string; context: RequestContext },
): Promise<{ token: string; idHash: string; previous: SessionRecord } | undefined> {
  const oldHash = hashSessionToken(input.token);
  const previous = oldHash && (await store.findSession(oldHash));
  if (!oldHash || !previous) return undefined;
  const { token, row } = newSessionRow(deps, {
    userId: previous.userId,
    stage: input.stage ?? previous.stage,
    attemptId: previous.attemptId,
    // The factor that completed the sign-in replaces the password alone; other rotations keep it.
    signInMethod: input.method ?? previous.signInMethod ?? null,
    context: input.context,
  });
  const { replaced } = await store.replaceSession(oldHash, row);
  return replaced ? { token, idHash: row.idHash, previous } : undefined;
}

async function auditSignIn(deps: ServiceDeps, userId: string, context: RequestContext, method: string) {
  await deps.store.appendAuditEvent(
    auditEvent(deps.clock.now(), 'sign_in', 'success', userId, context, { method }),
  );
}

/** The live session for a cookie token, or undefined (unknown, expired, or its user is gone). */
export async function resolveSession(deps: ServiceDeps, token: string): Promise<ActiveSession | undefined> {
  const idHash = hashSessionToken(token);
  if (!idHash) return undefined;
  // One read for the session, its user and roles: every request with a cookie pays for it.
  const found = await deps.store.findSessionWithUser(idHash);
  if (!found) return undefined;
  const record = await checkSessionTimes(deps, found.session);
  return record && { record, user: found.user };
}

/**
 * A session record read earlier, against the clock now: undefined once it has expired (idle or absolute
 * deadline; the row is deleted), else the record, with its idle deadline slid (and written) when a minute
 * has passed since it was last slid. Forward auth applies it to every verdict, from a cached record too.
 */
export async function checkSessionTimes(
  deps: ServiceDeps,
  record: SessionRecord,
): Promise<SessionRecord | undefined> {
  const now = deps.clock.now();
  switch (sessionTimes(record, now)) {
    case 'expired':
      await deps.store.deleteSession(record.idHash);
      return undefined;
    case 'refresh_due': {
      const expiresAt = deadlineFor(record.stage, record.createdAt, now);
      await deps.store.touchSession(record.idHash, now, expiresAt);
      return { ...record, lastSeenAt: now, expiresAt };
    }
    case 'live':
      return record;
  }
}

/**
 * Where a session stands at `now`: expired (idle or absolute deadline passed), due for its once-a-minute
 * idle refresh, or live with nothing to write. Pure: checkSessionTimes acts on it; forward auth asks it
 * first so that a live session costs no promise.
 */
export function sessionTimes(record: SessionRecord, now: Date): 'expired' | 'refresh_due' | 'live' {
  if (record.expiresAt.getTime() <= now.getTime()) return 'expired';
  if (record.stage === 'signed_in' && now.getTime() - record.lastSeenAt.getTime() >= TOUCH_INTERVAL_MS)
    return 'refresh_due';
  return 'live';
}

export async function endSession(deps: ServiceDeps, input: { token: string; context: RequestContext }) {
  const idHash = hashSessionToken(input.token);
  const record = idHash && (await deps.store.findSession(idHash));
  if (!idHash || !record) return;
  await deps.store.deleteSession(idHash);
  await deps.store.appendAuditEvent(
    auditEvent(deps.clock.now(), 'sign_out', 'success', record.userId, input.context),
  );
}

/** Ends every other session of the user, e.g. after two-factor settings change (ASVS 5.0 7.4.3). */
export async function endOtherSessions(deps: ServiceDeps, input: { userId: string; token: string }) {
  return deps.store.deleteUserSessions(input.userId, hashSessionToken(input.token));
}
