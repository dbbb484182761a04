import type { WriteOutcome } from '../write-outcome.js';
/** Email one-time codes, bound to the sign-in attempt that asked for them. */
export interface EmailOtpStore {
  /** Stores `challenge` and kills every earlier challenge of the same sign-in attempt (a resend). */
  replaceEmailOtpChallenge(challenge: NewEmailOtpChallenge): Promise<void>;
  findEmailOtpChallenge(attemptId: string): Promise<EmailOtpChallengeRecord | undefined>;
  /**
   * Charges one attempt against the challenge before it is evaluated. Wins only while the challenge is
   * unconsumed and has fewer than `maxAttempts` attempts, so concurrent guesses cannot exceed the cap.
   */
  chargeEmailOtpAttempt(challengeId: string, maxAttempts: number): Promise<WriteOutcome<'charged'>>;
  consumeEmailOtpChallenge(challengeId: string, at: Date): Promise<WriteOutcome<'consumed'>>;
}

export interface NewEmailOtpChallenge {
  id: string;
  userId: string;
  attemptId: string;
  digest: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface EmailOtpChallengeRecord extends NewEmailOtpChallenge {
  attempts: number;
  consumedAt: Date | null;
}
