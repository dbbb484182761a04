import { Type } from 'typebox';
import { IssuedCodes } from './common.js';
import { KeyAuthenticationResponse } from './security-keys.js';

/** The JSON bodies and answers of the signed-in user's own routes (routes/me.ts). */

/**
 * Proof of presence for a protected change: the password, a current authenticator code, or a security
 * key's answer to the challenge of `requestMyStepUpKeyOptions`.
 */
export const StepUp = Type.Object({
  password: Type.Optional(Type.String({ maxLength: 1024 })),
  totpCode: Type.Optional(Type.String({ maxLength: 16 })),
  securityKey: Type.Optional(KeyAuthenticationResponse),
});

export const PasswordChange = Type.Object({
  currentPassword: Type.String({ maxLength: 1024 }),
  newPassword: Type.String({ maxLength: 1024 }),
});

/** After a step-up-protected change: the token the request came with is dead. */
export const NewToken = Type.Object({
  token: Type.String({
    description: "The session's new token: the one the request came with no longer works",
  }),
});

export const IssuedCodesWithToken = Type.Object({ ...IssuedCodes.properties, ...NewToken.properties });

export const MfaOverview = Type.Object({
  mfaEnabled: Type.Boolean(),
  factors: Type.Array(Type.Object({ id: Type.String(), kind: Type.String() })),
  recoveryCodes: Type.Object({
    hasCodes: Type.Boolean(),
    remaining: Type.Optional(Type.Integer()),
    total: Type.Optional(Type.Integer()),
    low: Type.Optional(Type.Boolean()),
  }),
});

export const FactorIdParams = Type.Object({ factorId: Type.String({ maxLength: 64 }) });

/** A confirmed factor: the session's new token, and the first recovery codes when it was the first factor. */
export const FactorConfirmed = Type.Object({
  token: Type.String(),
  mfaEnabled: Type.Boolean(),
  recoveryCodes: Type.Union([IssuedCodes, Type.Null()]),
});
