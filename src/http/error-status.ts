import type { ErrorCode } from '../core/errors.js';

/**
 * The one table from failure codes to HTTP statuses, shared by the JSON API and the pages:
 * 400 the input is malformed, 401 a credential or code is wrong, 403 not allowed, 404 not found,
 * 409 the state does not allow it (already used, already set up), 410 expired, 503 not offered here.
 */
const statuses: Record<ErrorCode, number> = {
  invalid_code: 401,
  malformed_code: 400,
  code_already_used: 409,
  no_recovery_codes: 409,
  feature_disabled: 403,
  role_not_allowed: 403,
  mfa_not_enabled: 409,
  invalid_code_format: 400,
  totp_replayed: 409,
  enrollment_not_found: 404,
  factor_not_found: 404,
  factor_unreadable: 503,
  email_code_expired: 410,
  email_code_attempts_exhausted: 429,
  email_otp_disabled: 403,
  security_keys_unavailable: 404,
  passkey_sign_in_disabled: 403,
  webauthn_challenge_invalid: 400,
  security_key_not_recognized: 401,
  security_key_failed: 401,
  security_key_counter_regressed: 401,
  security_key_already_registered: 409,
  security_key_name_invalid: 400,
  security_key_limit_reached: 409,
  user_not_found: 404,
  email_taken: 409,
  invalid_email: 400,
  password_too_short: 400,
  password_too_long: 400,
  password_common: 400,
  password_contains_email: 400,
  wrong_credentials: 401,
  wrong_password: 401,
  current_password_wrong: 401,
  setup_token_invalid: 403,
  not_signed_in: 401,
  sign_in_expired: 401,
  csrf_invalid: 403,
  code_required: 400,
  codes_not_acknowledged: 400,
  step_up_failed: 401,
  totp_already_added: 409,
  email_factor_already_added: 409,
  last_factor: 409,
  not_found: 404,
  site_not_set_up: 409,
  not_admin: 403,
  reason_required: 400,
  invalid_role_name: 400,
  unknown_role: 400,
  email_address_missing: 409,
  external_id_taken: 409,
  invalid_external_id: 400,
  role_exists: 409,
  last_administrator: 409,
  invalid_settings: 400,
  invalid_filter: 400,
  mfa_setup_required: 403,
  invalid_api_key_request: 400,
  api_key_not_found: 404,
  webhook_endpoint_not_found: 404,
  webhook_delivery_not_found: 404,
  webhook_delivery_pending: 409,
  invalid_oidc_client: 400,
  oidc_client_not_found: 404,
  oidc_client_public: 409,
  api_key_required: 401,
  api_scope_missing: 403,
  invalid_request: 400,
  bad_request: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  json_too_deep: 400,
  uri_too_long: 414,
  request_timeout: 408,
  headers_too_large: 431,
  too_many_attempts: 429,
  // 423 Locked: waiting does not help, an unlock does.
  mfa_locked: 423,
  unlock_link_invalid: 400,
  reset_link_invalid: 400,
  second_factor_required: 401,
  metrics_token_required: 401,
  invalid_access_rules: 400,
  forward_auth_headers_missing: 400,
  access_denied: 403,
  address_not_protected: 403,
};

export function errorStatus(code: ErrorCode): number {
  return statuses[code];
}

/**
 * The error code for a 4xx raised by the framework itself (a bad URL, body parsing and limits), before
 * any route ran: by the framework's code where one says more than the status, else by the status.
 */
export function clientErrorCode(
  status: number,
  frameworkCode?: string,
): 'payload_too_large' | 'unsupported_media_type' | 'json_too_deep' | 'uri_too_long' | 'bad_request' {
  if (frameworkCode === 'SPAREKEY_JSON_TOO_DEEP') return 'json_too_deep';
  if (status === 413) return 'payload_too_large';
  if (status === 414) return 'uri_too_long';
  if (status === 415) return 'unsupported_media_type';
  return 'bad_request';
}
