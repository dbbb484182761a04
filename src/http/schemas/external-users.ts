import { Type } from 'typebox';
import { MAX_EMAIL_LENGTH } from '../../core/email-address.js';

/** The JSON bodies and answers of the host-user routes (routes/external-users.ts). */

const Email = Type.Union([Type.String({ minLength: 1, maxLength: MAX_EMAIL_LENGTH }), Type.Null()], {
  description: 'An address for security notices, or null for none',
});

export const HostUser = Type.Object(
  {
    userId: Type.String({ description: "SpareKey's id for the user" }),
    externalId: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    created: Type.Boolean({ description: 'True when this call created the user' }),
  },
  { additionalProperties: false },
);

export const DeletedUser = Type.Object(
  {
    factors: Type.Integer(),
    recoveryCodeSets: Type.Integer(),
    sessions: Type.Integer(),
    rememberedDevices: Type.Integer(),
    apiKeys: Type.Integer(),
  },
  { additionalProperties: false, description: 'What was removed with the user' },
);

export const EnsureExternalUserBody = Type.Object(
  { email: Type.Optional(Email) },
  { additionalProperties: false },
);

export const ExternalUserEmailChange = Type.Object({ email: Email }, { additionalProperties: false });

export const ExternalUserEmail = Type.Object(
  { email: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false },
);
