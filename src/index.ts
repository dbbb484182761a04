/** The package's public surface: the library, its types (every method's result), and the error catalog. */

/** The JSON a browser's WebAuthn ceremony takes and gives (as @simplewebauthn/browser reads and returns it). */
export type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
export { type ErrorCode, errorMessages } from './core/errors.js';
export type { PostRecoveryPolicy, RecoveryCodeSettings } from './core/policy.js';
export type { Failure, Result } from './core/result.js';
export type { ThrottleOptions, ThrottlePolicy } from './core/throttle.js';
export {
  type Context,
  createSpareKey,
  type SpareKey,
  type SpareKeyOptions,
  type WebauthnOptions,
} from './library.js';
export type { CreatedUser, PasswordSignIn, SignUpFailure } from './service/accounts/accounts.js';
export type { DeletedUser, EmailChange, EnsuredUser, UserRef } from './service/accounts/host-users.js';
export type { SignUpAccepted, SignUpRefusal } from './service/accounts/sign-up.js';
export type { UserRecord } from './service/accounts/user-lookup.js';
export type { CreatedApiKey, RevokedApiKey } from './service/admin/api-keys.js';
export type { MfaReset } from './service/admin/reset-mfa.js';
export type { AddedRole, AssignedRoles } from './service/admin/roles.js';
export type { SettingsUpdate } from './service/admin/settings.js';
export type { DailyUse, RecoveryCodeStatistics } from './service/admin/statistics.js';
export type { UsersWithCodesQuery, UserWithCodes } from './service/admin/users-with-codes.js';
export type { ChainBreak, ChainVerification } from './service/audit/audit-log.js';
export type { FactorConfirmation } from './service/factors/complete-enrollment.js';
export type { TotpConfirmation } from './service/factors/confirm-totp.js';
export type { StartedEmailFactor } from './service/factors/email-factor.js';
export type { EmailCodeVerification, EmailOtpFailure, SentEmailCode } from './service/factors/email-otp.js';
export type { TotpEnrollment } from './service/factors/enroll-totp.js';
export type { FactorKind, FactorRemoval, MfaDisabled, MfaOverview } from './service/factors/manage-mfa.js';
export type { TotpFailure, TotpVerification } from './service/factors/verify-totp.js';
export type { AssertionFailure as SecurityKeyFailure } from './service/factors/webauthn/check-assertion.js';
export type { HostCeremony, SecurityKeyVerification } from './service/factors/webauthn/host-ceremonies.js';
export type { RenamedSecurityKey, SecurityKeySummary } from './service/factors/webauthn/manage-keys.js';
export type { KeyRegistrationFailure } from './service/factors/webauthn/register-key.js';
export type { IssuedRecoveryCodeSet } from './service/recovery-codes/prepare-recovery-code-set.js';
export type { RecoveryCodeStatus } from './service/recovery-codes/recovery-code-status.js';
export type { RecoveryCodeFailure, RecoveryOutcome } from './service/recovery-codes/verify-recovery-code.js';
export type { ThrottleFailure } from './service/throttle/throttle-counters.js';
export type { UnlockedSecondFactor } from './service/throttle/unlock.js';
