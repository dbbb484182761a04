import { Type } from 'typebox';

/** The JSON bodies and answers of the operator's account routes (routes/admin-users.ts). */

export const NewUser = Type.Object({
  email: Type.String({ maxLength: 254 }),
  password: Type.String({ maxLength: 1024 }),
  roles: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 100 })),
});

export const CreatedUser = Type.Object({ userId: Type.String() });

export const EmailParams = Type.Object({ email: Type.String({ maxLength: 254 }) });

export const FoundUser = Type.Object({
  id: Type.String(),
  email: Type.String(),
  roles: Type.Array(Type.String()),
  createdAt: Type.String(),
});
