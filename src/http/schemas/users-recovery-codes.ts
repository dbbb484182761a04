import { Type } from 'typebox';
import { MAX_RESET_REASON_LENGTH } from '../../service/admin/reset-mfa.js';
import { IssuedCodes, RecoveryCodeStatus } from './common.js';

/** The JSON bodies and answers of a backend's per-user MFA routes (routes/users-recovery-codes.ts). */

export const UserMfa = Type.Object({
  mfaEnabled: Type.Boolean(),
  factors: Type.Array(Type.Object({ id: Type.String(), kind: Type.String(), addedAt: Type.String() })),
  recoveryCodes: RecoveryCodeStatus,
});

/** Why the MFA is reset: kept in the audit log; the limit is the service's. */
export const MfaResetBody = Type.Object({
  reason: Type.String({ minLength: 1, maxLength: MAX_RESET_REASON_LENGTH }),
});

export const MfaResetDone = Type.Object({ factorsRemoved: Type.Integer(), sessionsEnded: Type.Integer() });

/** A confirmed factor: the first recovery codes when it was the user's first factor. */
export const UserFactorConfirmed = Type.Object({
  factorId: Type.String(),
  mfaEnabled: Type.Boolean(),
  recoveryCodes: Type.Union([IssuedCodes, Type.Null()]),
});
