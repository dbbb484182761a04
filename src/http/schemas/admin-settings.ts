import { Type } from 'typebox';

/** The JSON bodies and answers of the operator's settings and statistics routes (routes/admin-settings.ts). */

/** Role names as the admin pages make them (core/policy.ts ROLE_NAME): short, and not too many. */
const RoleNames = Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 100 });
/**
 * Loose bounds that stop absurd input at the edge; the exact rules (a slot length of 1 or 2, a threshold
 * below the set size, ...) are the service's, answered with 422 and every problem listed.
 */
const Count = Type.Integer({ minimum: 0, maximum: 10_000 });

export const Settings = Type.Object({
  enabled: Type.Boolean(),
  allowedRoles: RoleNames,
  codesPerSet: Count,
  format: Type.Object({
    slotLength: Count,
    secretLength: Count,
    groupSize: Count,
  }),
  lowThreshold: Count,
  policy: Type.Union([Type.Literal('continue'), Type.Literal('disable_mfa'), Type.Literal('rotate')]),
  mfaRequiredRoles: RoleNames,
});

/**
 * A settings change names only the settings it changes, the format's parts included, and nothing else:
 * an unknown key is a 400 (issue 18, point 5: unknown keys were stored and the row grew without bound).
 */
export const SettingsChange = Type.Partial(
  Type.Object({ ...Settings.properties, format: Type.Partial(Settings.properties.format) }),
);

export const Statistics = Type.Object({
  usersWithCodes: Type.Integer(),
  lowOnCodes: Type.Integer(),
  lowThreshold: Type.Integer(),
  usedToday: Type.Integer(),
  usedThisMonth: Type.Integer(),
  failedToday: Type.Integer(),
  timeZone: Type.String(),
  last30Days: Type.Array(Type.Object({ date: Type.String(), used: Type.Integer(), failed: Type.Integer() })),
  factorsByKind: Type.Array(
    Type.Object({
      kind: Type.Union([Type.Literal('totp'), Type.Literal('email'), Type.Literal('webauthn')]),
      factors: Type.Integer({ description: 'Confirmed factors of this kind' }),
      users: Type.Integer({ description: 'Users with at least one' }),
    }),
  ),
  signInsByApplication: Type.Array(
    Type.Object({
      clientId: Type.String(),
      name: Type.String(),
      disabled: Type.Boolean(),
      today: Type.Integer({ description: 'Sign-ins through the application since local midnight' }),
      last30Days: Type.Integer({ description: 'Sign-ins in the last 30 local days, today included' }),
    }),
    { description: 'Every registered OpenID Connect application, the busiest first' },
  ),
});

export const UsersWithCodesQuery = Type.Object({
  emailPrefix: Type.Optional(Type.String({ maxLength: 254 })),
  after: Type.Optional(Type.String({ maxLength: 254 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
});

export const UsersWithCodesPage = Type.Object({
  users: Type.Array(
    Type.Object({
      id: Type.String(),
      email: Type.String(),
      roles: Type.Array(Type.String()),
      total: Type.Integer(),
      remaining: Type.Integer(),
      generatedAt: Type.String(),
      lastUsedAt: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  next: Type.Union([Type.String(), Type.Null()]),
});
