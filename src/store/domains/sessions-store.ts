import type { WriteOutcome } from '../write-outcome.js';
import type { UserRecord } from './users-store.js';

/** Browser sessions, keyed by the SHA-256 of the cookie token (the token itself is never stored). */
export interface SessionsStore {
  createSession(session: NewSession): Promise<void>;
  findSession(idHash: string): Promise<SessionRecord | undefined>;
  /**
   * The session with its user (roles included) in one read: what every request with a session cookie
   * needs, and forward auth asks for each request to a protected app. Undefined for an unknown id (or a
   * session whose user is gone).
   */
  findSessionWithUser(idHash: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined>;
  /**
   * Rotation: deletes `oldIdHash` and creates `next` in one transaction, only when the old session still
   * exists. Of two concurrent rotations of one session exactly one wins; the loser creates nothing.
   */
  replaceSession(oldIdHash: string, next: NewSession): Promise<WriteOutcome<'replaced'>>;
  /** Slides the idle deadline; never moves `expiresAt` later than the caller computed. */
  touchSession(idHash: string, lastSeenAt: Date, expiresAt: Date): Promise<void>;
  deleteSession(idHash: string): Promise<WriteOutcome<'deleted'>>;
  /** Ends every session of the user except `exceptIdHash`; returns how many ended. */
  deleteUserSessions(userId: string, exceptIdHash?: string): Promise<number>;
  /** Housekeeping: removes sessions whose `expiresAt` is at or before `now`. */
  deleteExpiredSessions(now: Date): Promise<number>;
}

export type SessionStage = 'second_factor' | 'signed_in';

export interface NewSession {
  idHash: string;
  userId: string;
  stage: SessionStage;
  attemptId: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
  /**
   * How the session was signed in: `password`, then the second factor that completed it (`totp`, `email`,
   * `recovery_code`) or `remembered_device`. Absent or null when unknown (sessions from before it was kept).
   */
  signInMethod?: string | null;
}

export type SessionRecord = NewSession;
