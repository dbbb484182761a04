import { Type } from 'typebox';
import { CodeInput } from './common.js';
import { RecoveryOutcomeFields } from './recovery-outcome.js';

/** The JSON bodies and answers of the end-user sign-in routes (routes/auth.ts). */
export const Credentials = Type.Object({
  email: Type.String({ maxLength: 254 }),
  password: Type.String({ maxLength: 1024 }),
});
export const SignInBody = Type.Object({
  ...Credentials.properties,
  rememberedBrowser: Type.Optional(
    Type.String({
      // The value is `<43 base64url>.<43 base64url>`: anything longer is not one.
      maxLength: 128,
      description:
        'The `rememberedBrowser.token` a second-factor completion returned for this user earlier: while it is ' +
        'live, the second step is skipped (stage `signed_in`, `rememberedBrowser: true`)',
    }),
  ),
});
export const SecondFactorCode = Type.Object({
  code: CodeInput,
  rememberBrowser: Type.Optional(
    Type.Boolean({
      description:
        'Skip the second step on this app for 30 days (the web\'s "don\'t ask again on this browser"): the ' +
        'answer then carries `rememberedBrowser`, to present at the next sign-in',
    }),
  ),
});
const Stage = Type.Union(
  [Type.Literal('second_factor'), Type.Literal('signed_in'), Type.Literal('two_factor_setup_required')],
  {
    description:
      '`second_factor`: the token only completes the second step. `signed_in`: done. ' +
      "`two_factor_setup_required`: a signed-in token, but the user's role must set up two-factor first: " +
      'take them through the two-factor setup (`/me/...`) before anything else (docs/api.md)',
  },
);
export const SessionToken = Type.Object({
  token: Type.String({ description: 'Send as Authorization: Bearer <token>; it changes at every step' }),
  stage: Stage,
});
export const SecondFactorDone = Type.Object({
  ...SessionToken.properties,
  rememberedBrowser: Type.Optional(
    Type.Object({
      token: Type.String({ description: "Keep it with the user's device; present it at sign-in" }),
      expiresAt: Type.String({ format: 'date-time' }),
    }),
  ),
});

/** The answer to `signIn`: the token, its stage, and what the app can offer next. */
export const SignInAnswer = Type.Object({
  ...SessionToken.properties,
  secondFactors: Type.Object({
    securityKey: Type.Boolean({
      description: 'The account has a security key or passkey: offer it first (`startSignInWithSecurityKey`)',
    }),
    totp: Type.Boolean(),
    email: Type.Boolean(),
    recoveryCode: Type.Boolean(),
  }),
  secondFactorLocked: Type.Optional(
    Type.Boolean({
      description:
        'Too many wrong codes locked the second factors: an unlock link was emailed, and no code is ' +
        'accepted until it is used',
    }),
  ),
  rememberedBrowser: Type.Optional(
    Type.Boolean({
      description: 'The second step was skipped for the remembered browser presented',
    }),
  ),
});

/** The same for a new address and one that has an account: the answer does not tell which. */
export const SignUpAccepted = Type.Object(
  { status: Type.Literal('accepted') },
  { description: 'Accepted; the same for a new address and one that has an account' },
);

export const EmailCodeSent = Type.Object({ expiresAt: Type.String() });

/** Signed in with a recovery code: the session, and which policy applied to the set. */
export const RecoveryCodeSignInDone = Type.Object({
  ...SecondFactorDone.properties,
  ...RecoveryOutcomeFields,
});
