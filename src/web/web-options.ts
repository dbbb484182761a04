import type { UseCases } from '../service/use-cases.js';

export interface WebOptions {
  useCases: UseCases;
  /** The one-time first-administrator setup token printed at start-up, while the database has no account. */
  setupToken?: string;
}

/** Fixed notices chosen by a query parameter: the URL selects one, it never carries the text. */
export const notices = {
  'signed-out': 'You have signed out.',
  'signed-up':
    'Thank you. Sign in with your email address and password. If that address already had an account, no second one was made: its owner was emailed instead.',
  'admin-created': 'Your administrator account is ready. Set up two-factor authentication to protect it.',
  'codes-saved': 'Two-factor authentication is on and your recovery codes are saved.',
  'codes-shown-once':
    'Recovery codes are shown only once, so that page cannot come back. If you did not save them, generate a new set.',
  'factor-added': 'Your new two-factor method is ready.',
  'key-renamed': 'The security key was renamed.',
  'factor-removed': 'The two-factor method was removed.',
  'device-forgotten': 'That browser is forgotten: it will ask for your second factor again.',
  'devices-forgotten': 'Every remembered browser is forgotten: each will ask for your second factor again.',
  'webhook-removed': 'The endpoint is removed, with its pending deliveries and its delivery log.',
  'webhook-test-sent':
    'A test event (ping) is queued for the endpoint: it is sent within seconds and shows in the delivery log.',
  'webhook-redelivered':
    'The delivery is queued again with the same delivery id: it is sent within seconds and shows in the log.',
  'devices-forgotten-by-admin':
    "The user's remembered browsers are forgotten: each will ask for a second factor again.",
  'mfa-disabled': 'Two-factor authentication is off, and your recovery codes were deleted.',
  'session-expired': 'Your session has ended. Sign in again.',
  'settings-saved': 'The settings were saved.',
  'access-rules-saved': 'The access rules were saved and apply to the next request.',
  'settings-saved-threshold-lowered':
    'The settings were saved. The low-on-codes threshold was lowered to one less than the codes per set, as a larger one would call every new set low (with 1 code per set it is 0: no low-on-codes warning).',
  'roles-saved': 'The roles were saved.',
  'role-added': 'The role was added.',
  'mfa-reset': 'Two-factor authentication was reset: the user was signed out everywhere and emailed.',
  'api-key-revoked': 'The API key was revoked: it stops working at once.',
  'application-disabled':
    'The application was disabled: nobody can sign in to it, and its codes and tokens are refused.',
  'application-enabled': 'The application was enabled: people can sign in to it again.',
  'application-deleted': 'The application was deleted. Its past sign-ins stay in the audit log.',
  'audit-purged': 'Old audit events were deleted; the chain was re-anchored.',
  'mfa-required': 'Your role requires two-factor authentication: set it up to continue.',
  'mfa-required-app':
    'The app you opened requires two-factor authentication. Set it up and save your recovery codes: you will then be taken back to it.',
  'app-sign-in': 'Sign in to continue to the application.',
  unlocked: 'Two-factor sign-in is unlocked. Sign in again with your password and a second factor.',
  'password-reset':
    'Your password was changed and every device was signed out. Sign in with the new password.',
  'password-changed':
    'Your password was changed. Every other device was signed out, and remembered browsers will ask for your second factor again.',
  'password-reset-mfa-off':
    'Your password was changed and, as this site requires after a recovery code, two-factor authentication was turned off. Sign in and set it up again.',
} as const;

export function noticeFor(query: unknown): string | undefined {
  const key = (query as { notice?: unknown } | undefined)?.notice;
  return typeof key === 'string' && Object.hasOwn(notices, key)
    ? notices[key as keyof typeof notices]
    : undefined;
}
