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
  // Security keys and passkeys (WebAuthn)
  security_keys_unavailable: 'Security keys are not available on this site.',
  passkey_sign_in_disabled:
    'Signing in with a passkey is turned off on this site. Sign in with your password.',
  webauthn_challenge_invalid:
    'That security-key request has expired or was already used. Try again: each request works once, for 5 minutes.',
  security_key_not_recognized:
    'That security key or passkey is not registered to this account, or it was removed. Use another key or another method.',
  security_key_failed:
    "Your security key's answer could not be verified for this site. Try again, or use another method.",
  security_key_counter_regressed:
    'This security key was refused: its use counter went backwards, which can mean the key was copied. Use another method, and tell the site support.',
  security_key_already_registered: 'That security key is already registered.',
  security_key_name_invalid: 'Give the key a name of 1 to 64 characters, like "YubiKey 5C" or "Phone".',
  security_key_limit_reached:
    'You have registered the most security keys an account can have (20). Remove one first.',
  // Accounts
  user_not_found: 'That account was not found.',
  email_taken: 'An account with that email address already exists.',
  invalid_email: 'Enter a valid email address, like name@example.com.',
  password_too_short: 'Use a password of at least 8 characters.',
  password_too_long: 'Use a password of at most 256 characters.',
  password_common: 'That password is on a list of common or breached passwords. Choose a different one.',
  password_contains_email: 'Your password must not contain your email address.',
  wrong_credentials: 'That email address and password do not match an account.',
  wrong_password: 'That password is not correct.',
  current_password_wrong: 'Your current password is not correct, so nothing was changed.',
  setup_token_invalid: 'That setup link is not valid or has already been used.',
  // Sessions and forms
  not_signed_in: 'Please sign in to continue.',
  sign_in_expired: 'Your sign-in attempt has expired. Sign in again.',
  csrf_invalid:
    'This form has expired or did not come from this site. Go back, reload the page and try again.',
  code_required: 'Enter the code.',
  codes_not_acknowledged: 'Tick "I have saved these codes" to finish.',
  // Step-up takes a password, an authenticator code or a security key: the refusal names all three.
  step_up_failed:
    'That password, authenticator code or security key was not accepted. Try again, or use another way.',
  totp_already_added: 'An authenticator app is already set up. Remove it first to add a different one.',
  email_factor_already_added: 'Email codes are already set up for your account.',
  last_factor: 'This is your only two-factor method: turn two-factor authentication off instead.',
  not_found: 'That page does not exist.',
  site_not_set_up: 'This site is still being set up. Try again later.',
  // Administration
  not_admin: 'Only administrators can open this page.',
  reason_required: 'Give the reason for the reset (up to 500 characters): it is kept in the audit log.',
  invalid_role_name: 'Role names are 1 to 40 lowercase letters, digits, dashes or underscores.',
  role_exists: 'That role already exists.',
  last_administrator:
    'This is the only administrator: make another account an administrator first, so someone can still run the site.',
  email_address_missing: 'This account has no email address, so no code or notice can be emailed to it.',
  external_id_taken: 'Another account already has that external id.',
  invalid_external_id: 'An external id is 1 to 255 characters, without control characters.',
  unknown_role: 'There is no role by that name: use one of the roles listed under Administration, Roles.',
  invalid_settings: 'Those settings cannot be saved. See the problems listed.',
  invalid_filter: 'That filter is not valid. Check the dates and the event type.',
  invalid_api_key_request: 'Give the key a name (up to 80 characters) and at least one known scope.',
  api_key_not_found: 'That API key was not found or is already revoked.',
  webhook_endpoint_not_found: 'That webhook endpoint was not found: it may have been removed.',
  webhook_delivery_not_found:
    'That delivery is not in the log: it may have been removed with its endpoint, or purged after 30 days.',
  webhook_delivery_pending:
    'That delivery is still queued and will be sent again by itself. Redeliver is for delivered or failed deliveries.',
  invalid_oidc_client:
    'Give the application a name (up to 100 characters), at least one redirect URI (https, or http only on this computer: 127.0.0.1, [::1] or localhost; no fragment) and scopes from openid, email, profile, groups and offline_access, including openid.',
  oidc_client_not_found: 'That application was not found: it may have been deleted.',
  oidc_client_public: 'A public application has no secret to rotate.',
  api_key_required: 'Send a valid API key: Authorization: Bearer sk_...',
  api_scope_missing: 'This API key does not have the scope this operation needs.',
  invalid_request: 'The request does not match the documented schema.',
  mfa_setup_required: 'Your role requires two-factor authentication: set it up to continue.',
  bad_request: 'The request could not be understood. Go back and try again.',
  payload_too_large: 'The request is too large: nothing SpareKey accepts is longer than 64 KB.',
  unsupported_media_type: 'The request body must be JSON (the API) or a submitted form (the pages).',
  json_too_deep: 'The JSON body nests too deeply: at most 32 levels of arrays and objects.',
  uri_too_long: 'The address is too long: a path parameter is longer than any SpareKey accepts.',
  request_timeout: 'The request took too long to arrive. Try again.',
  headers_too_large: 'The request headers are too large.',
  // Throttling (NIST SP 800-63B 5.2.2)
  too_many_attempts:
    'Too many attempts. For your security, wait before trying again; the wait grows with each wrong attempt.',
  mfa_locked:
    'Two-factor sign-in is locked after too many wrong codes. We emailed you a link to unlock it with your password; the site administrator can also unlock it.',
  metrics_token_required: 'Send the metrics token: Authorization: Bearer <SPAREKEY_METRICS_TOKEN>.',
  unlock_link_invalid:
    'That unlock link is not valid, has expired or was already used. Sign in again to get a new one.',
  reset_link_invalid:
    'That password reset link is not valid, has expired or was already used. Ask for a new one: links work once, for 30 minutes.',
  second_factor_required:
    'Your account has two-factor authentication: enter a code from your authenticator app, or one of your recovery codes.',
  // Forward auth (docs/integrations.md)
  invalid_access_rules: 'Those access rules cannot be saved. See the problems listed, each naming its rule.',
  forward_auth_headers_missing:
    'The proxy did not say which request to check: send X-Original-URL, or X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Uri.',
  access_denied: 'You are not allowed to open this page.',
  address_not_protected: 'That address is not on a domain SpareKey protects (SPAREKEY_COOKIE_DOMAIN).',
} as const;

export type ErrorCode = keyof typeof errorMessages;

export function errorMessage(code: ErrorCode): string {
  return errorMessages[code];
}
