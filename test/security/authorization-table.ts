/**
 * The expected authorization matrix (issue 6.5). Columns, in order:
 *   anonymous | pending (password done, second factor owed) | user (the victim) | other (another signed-in
 *   user) | admin (a signed-in administrator) | API keys: recovery_codes:read | recovery_codes:write |
 *   mfa:reset | audit:read | admin
 * Cells: A allowed (reached the use case), U unauthenticated (401 / sent to sign in), F forbidden (403),
 * N not found (the victim's resource, asked for by someone else). Path parameters name the victim's resources.
 */
export const MATRIX: Record<string, string> = {
  // loopback caller here; remote callers need SPAREKEY_METRICS_TOKEN (test/http/operations.test.ts)
  'GET /metrics': 'A A A A A A A A A A',
  'GET /docs': 'A A A A A A A A A A',
  'GET /docs/static/index.html': 'A A A A A A A A A A',
  'GET /docs/static/swagger-initializer.js': 'A A A A A A A A A A',
  'GET /docs/json': 'A A A A A A A A A A',
  'GET /docs/yaml': 'A A A A A A A A A A',
  'GET /docs/static/*': 'A A A A A A A A A A',
  'GET /openapi.json': 'A A A A A A A A A A',
  'GET /healthz': 'A A A A A A A A A A',
  // forward auth: without the proxy's headers a 400 about the input; its verdicts: test/forward-auth/
  'GET /api/verify/auth-request': 'A A A A A A A A A A',
  'GET /api/verify/forward-auth': 'A A A A A A A A A A',
  'GET /readyz': 'A A A A A A A A A A',
  'GET /api/v1/users/:userId/recovery-codes': 'U U U U U A F F F A',
  'POST /api/v1/users/:userId/recovery-codes': 'U U U U U F A F F A',
  'POST /api/v1/users/:userId/recovery-codes/verify': 'U U U U U F A F F A',
  'GET /api/v1/users/:userId/mfa': 'U U U U U A F F F A',
  'POST /api/v1/users/:userId/mfa/reset': 'U U U U U F F A F A',
  'POST /api/v1/users/:userId/factors/totp': 'U U U U U F F F F A',
  'POST /api/v1/users/:userId/factors/totp/:factorId/confirm': 'U U U U U F F F F A',
  'POST /api/v1/users/:userId/factors/totp/verify': 'U U U U U F F F F A',
  'GET /api/v1/statistics': 'U U U U U F F F F A',
  'GET /api/v1/settings': 'U U U U U F F F F A',
  'PATCH /api/v1/settings': 'U U U U U F F F F A',
  'GET /api/v1/users-with-codes': 'U U U U U A F F F A',
  'GET /api/v1/audit-events': 'U U U U U F F F A A',
  'GET /api/v1/audit-events/export': 'U U U U U F F F A A',
  'GET /api/v1/audit-events/verification': 'U U U U U F F F A A',
  'POST /api/v1/api-keys': 'U U U U U F F F F A',
  'DELETE /api/v1/api-keys/:keyId': 'U U U U U F F F F A',
  'POST /api/v1/users': 'U U U U U F F F F A',
  'GET /api/v1/users/by-email/:email': 'U U U U U A F F F A',
  'POST /api/v1/auth/sign-up': 'A A A A A A A A A A',
  'POST /api/v1/auth/sign-in': 'A A A A A A A A A A',
  'POST /api/v1/auth/second-factor/totp': 'U A U U U U U U U U',
  'POST /api/v1/auth/second-factor/email/send': 'U A U U U U U U U U',
  'POST /api/v1/auth/second-factor/email': 'U A U U U U U U U U',
  'POST /api/v1/auth/second-factor/recovery-code': 'U A U U U U U U U U',
  // a half-signed-in (pending) token can be ended too
  'POST /api/v1/auth/sign-out': 'U A A A A U U U U U',
  'GET /api/v1/me/mfa': 'U U A A A U U U U U',
  'POST /api/v1/me/factors/totp': 'U U A A A U U U U U',
  // another user's pending factor is not found
  'POST /api/v1/me/factors/totp/:factorId/confirm': 'U U A N N U U U U U',
  'POST /api/v1/me/factors/email': 'U U A A A U U U U U',
  // the owner's pending email factor takes the (wrong) code; another user's is not found
  'POST /api/v1/me/factors/email/:factorId/confirm': 'U U A N N U U U U U',
  'POST /api/v1/me/recovery-codes': 'U U A A A U U U U U',
  // another user's factor is not found, never removed
  'POST /api/v1/me/factors/:factorId/remove': 'U U A N N U U U U U',
  'POST /api/v1/me/mfa/disable': 'U U A A A U U U U U',
  // the empty body is refused by the schema (400): only a signed-in session gets that far
  'POST /api/v1/me/password': 'U U A A A U U U U U',
  'GET /assets/style.css': 'A A A A A A A A A A',
  'GET /assets/enhance.js': 'A A A A A A A A A A',
  'GET /': 'U U A A A U U U U U',
  'GET /sign-in': 'A A A A A A A A A A',
  'POST /sign-in': 'A A A A A A A A A A',
  'POST /sign-out': 'A A A A A A A A A A',
  'GET /sign-up': 'A A A A A A A A A A',
  'POST /sign-up': 'A A A A A A A A A A',
  // no setup token configured: first-run setup is closed to everyone
  'GET /setup': 'F F F F F F F F F F',
  // no setup token configured: first-run setup is closed to everyone
  'POST /setup': 'F F F F F F F F F F',
  'GET /lost-access': 'A A A A A A A A A A',
  'GET /sign-in/two-factor': 'U A U U U U U U U U',
  'POST /sign-in/two-factor/totp': 'U A U U U U U U U U',
  'POST /sign-in/two-factor/email/send': 'U A U U U U U U U U',
  'POST /sign-in/two-factor/email': 'U A U U U U U U U U',
  'GET /sign-in/recovery': 'U A U U U U U U U U',
  'POST /sign-in/recovery': 'U A U U U U U U U U',
  'GET /unlock': 'A A A A A A A A A A',
  'POST /unlock': 'A A A A A A A A A A',
  'GET /forgot-password': 'A A A A A A A A A A',
  'POST /forgot-password': 'A A A A A A A A A A',
  'GET /reset-password': 'A A A A A A A A A A',
  'POST /reset-password': 'A A A A A A A A A A',
  'GET /settings/two-factor': 'U U A A A U U U U U',
  'POST /settings/two-factor/totp/start': 'U U A A A U U U U U',
  // another user's pending factor is not found
  'POST /settings/two-factor/totp/confirm': 'U U A N N U U U U U',
  'POST /settings/two-factor/email/start': 'U U A A A U U U U U',
  // the victim's pending email factor, named in the form: its owner gets a new code (or a wrong-code
  // answer), another user's request does not find it
  'POST /settings/two-factor/email/resend': 'U U A N N U U U U U',
  'POST /settings/two-factor/email/confirm': 'U U A N N U U U U U',
  'POST /settings/two-factor/recovery-codes/acknowledge': 'U U A A A U U U U U',
  // the victim's remembered browser: its owner forgets it, another user's request does not find it
  'POST /settings/two-factor/devices/:deviceId/forget': 'U U A N N U U U U U',
  'POST /settings/two-factor/devices/forget-all': 'U U A A A U U U U U',
  'GET /settings/two-factor/recovery-codes/regenerate': 'U U A A A U U U U U',
  'POST /settings/two-factor/recovery-codes/regenerate': 'U U A A A U U U U U',
  // only for one of the user's own methods: another user's id is not found, before any confirmation
  'GET /settings/two-factor/factors/:factorId/remove': 'U U A N N U U U U U',
  // another user's factor is not found, never removed
  'POST /settings/two-factor/factors/:factorId/remove': 'U U A N N U U U U U',
  'GET /settings/two-factor/disable': 'U U A A A U U U U U',
  'POST /settings/two-factor/disable': 'U U A A A U U U U U',
  // a redirect to Settings → Password for everyone (W3C well-known URL); that page decides who may see it
  'GET /.well-known/change-password': 'A A A A A A A A A A',
  'GET /settings/password': 'U U A A A U U U U U',
  // the empty form is refused for its new password (400): only a signed-in session gets that far
  'POST /settings/password': 'U U A A A U U U U U',
  'GET /admin': 'U U F F A U U U U U',
  'GET /admin/settings': 'U U F F A U U U U U',
  'POST /admin/settings': 'U U F F A U U U U U',
  'GET /admin/users': 'U U F F A U U U U U',
  // the admin reaches it; no account matches the empty query
  'GET /admin/accounts': 'U U F F N U U U U U',
  'GET /admin/users/:userId': 'U U F F A U U U U U',
  'POST /admin/users/:userId/roles': 'U U F F A U U U U U',
  'POST /admin/users/:userId/reset': 'U U F F A U U U U U',
  'POST /admin/users/:userId/forget-devices': 'U U F F A U U U U U',
  'GET /admin/access-rules': 'U U F F A U U U U U',
  // the matrix posts no document: a 400 about the input, for administrators only
  'POST /admin/access-rules': 'U U F F A U U U U U',
  'GET /admin/webhooks': 'U U F F A U U U U U',
  'POST /admin/webhooks': 'U U F F A U U U U U',
  'POST /admin/webhooks/:endpointId/remove': 'U U F F A U U U U U',
  // administrators only; the world has no webhook endpoint or delivery, so the admin's is not found
  'POST /admin/webhooks/:endpointId/ping': 'U U F F N U U U U U',
  'POST /admin/webhooks/deliveries/:deliveryId/redeliver': 'U U F F N U U U U U',
  'GET /admin/roles': 'U U F F A U U U U U',
  'POST /admin/roles': 'U U F F A U U U U U',
  'GET /admin/api-keys': 'U U F F A U U U U U',
  'POST /admin/api-keys': 'U U F F A U U U U U',
  'POST /admin/api-keys/:keyId/revoke': 'U U F F A U U U U U',
  'GET /admin/audit': 'U U F F A U U U U U',
  'GET /admin/audit/export.csv': 'U U F F A U U U U U',
  'GET /admin/audit/export.jsonl': 'U U F F A U U U U U',
  'GET /admin/audit/verify': 'U U F F A U U U U U',
  'POST /admin/audit/purge': 'U U F F A U U U U U',
};
