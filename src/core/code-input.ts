/**
 * The bounds of a code as typed (an authenticator's, an emailed or a recovery code), checked at every edge
 * before the code reaches a flow: no real code is empty or anywhere near 256 characters, and a bound keeps
 * a pasted page out of the normaliser and the audit log. The JSON API's schemas and the library refuse the
 * same lengths with the same error code (docs/api.md, "Error codes"), so neither charges the throttle.
 */
export const MAX_CODE_INPUT_LENGTH = 256;

/** True for a string of 1 to MAX_CODE_INPUT_LENGTH characters (anything else a caller hands over is refused). */
export function isCodeInputInBounds(code: unknown): code is string {
  return typeof code === 'string' && code.length >= 1 && code.length <= MAX_CODE_INPUT_LENGTH;
}
