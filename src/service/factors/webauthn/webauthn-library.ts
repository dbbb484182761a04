/**
 * @simplewebauthn/server and its helpers, loaded with the first security-key ceremony rather than at
 * start: a deployment whose people use no security key never holds them in memory (with their
 * certificate and CBOR parsers they are among the largest dependencies). Both are cached by the module
 * loader; the first ceremony waits once for the import.
 */
export const webauthnLibrary = () => import('@simplewebauthn/server');
export const webauthnHelpers = () => import('@simplewebauthn/server/helpers');
