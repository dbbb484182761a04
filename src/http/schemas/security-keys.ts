import { Type } from 'typebox';
import { MAX_CEREMONY_ID_LENGTH } from '../../service/factors/webauthn/host-ceremonies.js';
import type { SecurityKeySummary } from '../../service/factors/webauthn/manage-keys.js';
import { MAX_SECURITY_KEY_NAME_LENGTH } from '../../service/factors/webauthn/register-key.js';

/*
 * The JSON bodies and answers of the security-key routes (routes/me-security-keys.ts, routes/auth.ts,
 * routes/users-security-keys.ts). A key's answer is the JSON that @simplewebauthn/browser's
 * startRegistration / startAuthentication (or PublicKeyCredential.toJSON()) gives: W3C WebAuthn L3
 * RegistrationResponseJSON and AuthenticationResponseJSON. Every field is bounded here; what they say is
 * checked by @simplewebauthn/server in the use case (origin, RP ID, challenge, signature).
 */

/** base64url of a credential id (at most 1023 bytes, W3C WebAuthn L2 5.8.3). */
const CredentialId = Type.String({ minLength: 1, maxLength: 1400 });
const Base64Url = (maxLength: number) => Type.String({ maxLength });

/** The extension outputs a browser may report for what SpareKey asks (credProps) or an old U2F key (appid). */
const ClientExtensionResults = Type.Object({
  credProps: Type.Optional(Type.Object({ rk: Type.Optional(Type.Boolean()) })),
  appid: Type.Optional(Type.Boolean()),
  hmacCreateSecret: Type.Optional(Type.Boolean()),
});

const CredentialCommon = {
  id: CredentialId,
  rawId: CredentialId,
  type: Type.Literal('public-key'),
  authenticatorAttachment: Type.Optional(
    Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')]),
  ),
  clientExtensionResults: ClientExtensionResults,
};

export const KeyRegistrationResponse = Type.Object(
  {
    ...CredentialCommon,
    response: Type.Object({
      clientDataJSON: Base64Url(4096),
      // Attestation `none`: authenticator data with the public key; a few hundred bytes in practice.
      attestationObject: Base64Url(8192),
      authenticatorData: Type.Optional(Base64Url(8192)),
      transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 8 })),
      publicKeyAlgorithm: Type.Optional(Type.Integer({ minimum: -65536, maximum: 65535 })),
      publicKey: Type.Optional(Base64Url(4096)),
    }),
  },
  { description: "The key's answer to navigator.credentials.create(), as JSON (startRegistration gives it)" },
);

export const KeyAuthenticationResponse = Type.Object(
  {
    ...CredentialCommon,
    response: Type.Object({
      clientDataJSON: Base64Url(4096),
      authenticatorData: Base64Url(4096),
      signature: Base64Url(1024),
      userHandle: Type.Optional(Base64Url(128)),
    }),
  },
  { description: "The key's answer to navigator.credentials.get(), as JSON (startAuthentication gives it)" },
);

const KeyName = Type.String({
  minLength: 1,
  maxLength: MAX_SECURITY_KEY_NAME_LENGTH,
  description: 'What the person calls the key, e.g. "YubiKey 5C" or "Phone"',
});

export const KeyRegistrationBody = Type.Object({ name: KeyName, response: KeyRegistrationResponse });
export const KeyRenameBody = Type.Object({ name: KeyName });
export const KeyName200 = Type.Object({ name: Type.String() });

/** A key at the second sign-in step (session API). */
export const KeySignInBody = Type.Object({
  response: KeyAuthenticationResponse,
  rememberBrowser: Type.Optional(
    Type.Boolean({
      description: 'As for an authenticator code: skip the second step on this app for 30 days',
    }),
  ),
});

const CeremonyId = Type.String({
  minLength: 1,
  maxLength: MAX_CEREMONY_ID_LENGTH,
  description:
    'The `ceremonyId` the options came with: keep it in your session, send it back with the answer',
});
export const HostKeyRegistrationBody = Type.Object({
  ceremonyId: CeremonyId,
  name: KeyName,
  response: KeyRegistrationResponse,
});
export const HostKeyVerificationBody = Type.Object({
  ceremonyId: CeremonyId,
  response: KeyAuthenticationResponse,
});

/**
 * The options to hand to the browser (startRegistration({ optionsJSON }) or startAuthentication), as
 * @simplewebauthn/server makes them: W3C WebAuthn L3 PublicKeyCredentialCreationOptionsJSON /
 * PublicKeyCredentialRequestOptionsJSON. Only the main members are listed; all are passed on.
 */
const CredentialDescriptor = Type.Object(
  {
    id: Type.String(),
    type: Type.String(),
    transports: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: true },
);
export const CreationOptions = Type.Object(
  {
    challenge: Type.String({ description: 'Single use, bound to this ceremony, good for 5 minutes' }),
    rp: Type.Object(
      { id: Type.Optional(Type.String()), name: Type.String() },
      { additionalProperties: true },
    ),
    user: Type.Object(
      { id: Type.String(), name: Type.String(), displayName: Type.String() },
      { additionalProperties: true },
    ),
    pubKeyCredParams: Type.Array(
      Type.Object({ alg: Type.Integer(), type: Type.String() }, { additionalProperties: true }),
    ),
    timeout: Type.Optional(Type.Integer()),
    excludeCredentials: Type.Optional(Type.Array(CredentialDescriptor)),
    authenticatorSelection: Type.Optional(Type.Object({}, { additionalProperties: true })),
    attestation: Type.Optional(Type.String()),
    extensions: Type.Optional(Type.Object({}, { additionalProperties: true })),
    hints: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: true },
);
export const RequestOptions = Type.Object(
  {
    challenge: Type.String({ description: 'Single use, bound to this ceremony, good for 5 minutes' }),
    rpId: Type.Optional(Type.String()),
    timeout: Type.Optional(Type.Integer()),
    allowCredentials: Type.Optional(Type.Array(CredentialDescriptor)),
    userVerification: Type.Optional(Type.String()),
    extensions: Type.Optional(Type.Object({}, { additionalProperties: true })),
    hints: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: true },
);
export const CreationOptionsAnswer = Type.Object({ options: CreationOptions });
export const RequestOptionsAnswer = Type.Object({ options: RequestOptions });
export const HostCreationOptionsAnswer = Type.Object({ ceremonyId: Type.String(), options: CreationOptions });
export const HostRequestOptionsAnswer = Type.Object({ ceremonyId: Type.String(), options: RequestOptions });

export const SecurityKey = Type.Object({
  id: Type.String({ description: 'The factor id (to rename or remove it); never the credential id' }),
  name: Type.String(),
  deviceType: Type.Union([Type.Literal('singleDevice'), Type.Literal('multiDevice')], {
    description: '`multiDevice`: a passkey that may be synced; `singleDevice`: bound to one authenticator',
  }),
  backedUp: Type.Boolean(),
  addedAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export const SecurityKeyList = Type.Object({ securityKeys: Type.Array(SecurityKey) });

/** A key proven for the user (by-user verification). */
export const KeyVerified = Type.Object({ factorId: Type.String() });

/** A by-user registration: the first recovery codes when it was the user's first factor. */
export { UserFactorConfirmed as HostKeyRegistered } from './users-recovery-codes.js';

/** The user's keys as JSON: dates as ISO strings, never the credential id or public key. */
export function securityKeysBody(keys: SecurityKeySummary[]) {
  return {
    securityKeys: keys.map((key) => ({
      id: key.id,
      name: key.name,
      deviceType: key.deviceType,
      backedUp: key.backedUp,
      addedAt: key.addedAt.toISOString(),
      lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    })),
  };
}
