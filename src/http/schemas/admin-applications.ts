import { Type } from 'typebox';
import { OIDC_SCOPES, type OidcClientRecord } from '../../service/oidc/clients.js';

/** The JSON bodies and answers of the applications routes (routes/admin-applications.ts). */

const Uris = (description: string, minItems: number) =>
  Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), {
    minItems,
    maxItems: 10,
    description: `${description}: absolute, matched exactly, https (or http on 127.0.0.1, [::1], localhost), no fragment`,
  });

/** What an administrator may change about an application (the kind is chosen once, at registration). */
const settings = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  redirectUris: Uris('Where the application may receive the sign-in', 1),
  postLogoutRedirectUris: Type.Optional(Uris('Where the application may be sent after signing out', 0)),
  firstParty: Type.Optional(
    Type.Boolean({ default: false, description: 'The operator vouches for it: no consent page' }),
  ),
  twoFactorRequired: Type.Optional(
    Type.Boolean({ default: false, description: 'Never given a sign-in with only one factor' }),
  ),
  scopes: Type.Array(Type.String({ enum: [...OIDC_SCOPES] }), {
    minItems: 1,
    maxItems: OIDC_SCOPES.length,
    description: 'The scopes it may ask for; openid is required, offline_access allows refresh tokens',
  }),
};

export const NewApplication = Type.Object({
  ...settings,
  kind: Type.Union([Type.Literal('confidential'), Type.Literal('public')], {
    description: 'confidential: a server holding a secret; public: a browser or native app, PKCE only',
  }),
});

export const ApplicationSettings = Type.Object(settings);

export const ClientIdParams = Type.Object({ clientId: Type.String({ minLength: 1, maxLength: 64 }) });

const DateOrNull = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

export const Application = Type.Object({
  clientId: Type.String(),
  name: Type.String(),
  kind: Type.Union([Type.Literal('confidential'), Type.Literal('public')]),
  redirectUris: Type.Array(Type.String()),
  postLogoutRedirectUris: Type.Array(Type.String()),
  firstParty: Type.Boolean(),
  twoFactorRequired: Type.Boolean(),
  scopes: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  disabledAt: DateOrNull,
});

export const ApplicationList = Type.Object({ applications: Type.Array(Application) });

export const RegisteredApplication = Type.Object({
  application: Application,
  clientSecret: Type.Union([Type.String(), Type.Null()], {
    description: 'Shown in this response only (stored hashed); null for a public application',
  }),
});

export const RotatedSecret = Type.Object({
  clientSecret: Type.String({ description: 'Shown in this response only; the old secret stopped working' }),
});

/** An application as JSON: never its secret's hash. */
export function applicationBody(client: OidcClientRecord) {
  return {
    clientId: client.id,
    name: client.name,
    kind: client.kind,
    redirectUris: [...client.redirectUris],
    postLogoutRedirectUris: [...client.postLogoutRedirectUris],
    firstParty: client.firstParty,
    twoFactorRequired: client.twoFactorRequired,
    scopes: [...client.scopes],
    createdAt: client.createdAt.toISOString(),
    updatedAt: client.updatedAt.toISOString(),
    disabledAt: client.disabledAt?.toISOString() ?? null,
  };
}
