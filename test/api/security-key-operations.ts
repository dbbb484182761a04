/**
 * The security-key and passkey operations need a key's real answer, which only a browser gives: they are driven with
 * Chromium's virtual authenticator in security-keys-api.browser.test.ts, which checks that each of them
 * answered a 2xx there. api.test.ts, which proves every other operation was called successfully, leaves
 * these to it.
 */
export const KEY_OPERATIONS_DRIVEN_IN_CHROMIUM = [
  'listMySecurityKeys',
  'startMySecurityKeyRegistration',
  'registerMySecurityKey',
  'renameMySecurityKey',
  'startMyStepUpWithSecurityKey',
  'startSignInWithSecurityKey',
  'signInWithSecurityKey',
  'startPasskeySignIn',
  'signInWithPasskey',
  ...['', 'ByExternalId'].flatMap((suffix) => [
    `listSecurityKeys${suffix}`,
    `startSecurityKeyRegistration${suffix}`,
    `registerSecurityKey${suffix}`,
    `startSecurityKeyAuthentication${suffix}`,
    `verifySecurityKey${suffix}`,
    `removeSecurityKey${suffix}`,
  ]),
];
