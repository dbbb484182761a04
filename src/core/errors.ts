/**
 * The one catalog of expected failures: a stable code (shown to API clients and used in tests) and a
 * message a person understands. The edges map codes to HTTP statuses in one table of their own.
 */
export const errorMessages = {
  // Recovery codes
  invalid_code: 'That code is not valid. Check it and try again.',
  malformed_code:
    'That does not look like a recovery code. Codes look like K-7Q2MX-9HD4T: type all of it, including the first character.',
  code_already_used: 'That recovery code has already been used. Each recovery code works only once.',
  no_recovery_codes: 'There are no recovery codes for this account.',
  feature_disabled: 'Recovery codes are turned off on this site.',
  role_not_allowed: 'Your account is not allowed to create recovery codes. Ask the site administrator.',
  mfa_not_enabled: 'Turn on two-factor authentication before creating recovery codes.',
  invalid_code_format: 'That recovery-code format is not allowed.',
  // TOTP and email codes
  totp_replayed: 'That code was already used. Wait for the next code in your authenticator app.',
  enrollment_not_found: 'That two-factor setup was not found or has already been completed. Start again.',
  factor_not_found: 'That two-factor method was not found.',
  factor_unreadable:
    'Your authenticator cannot be checked right now. Use a recovery code, or contact the site support.',
  email_code_expired: 'That email code has expired. Ask for a new one.',
  email_code_attempts_exhausted: 'Too many wrong codes. Ask for a new email code.',
  email_otp_disabled: 'Email codes are turned off on this site.',
  // Accounts
  user_not_found: 'That account was not found.',
  email_taken: 'An account with that email address already exists.',
} as const;

export type ErrorCode = keyof typeof errorMessages;

export function errorMessage(code: ErrorCode): string {
  return errorMessages[code];
}
