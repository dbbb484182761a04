/** The package's public surface: the library, its types (every method's result), and the error catalog. */

export { type ErrorCode, errorMessages } from './core/errors.js';
export type { PostRecoveryPolicy, RecoveryCodeSettings } from './core/policy.js';
export type { Failure, Result } from './core/result.js';
export type { ThrottleOptions, ThrottlePolicy } from './core/throttle.js';
export { type Context, createSpareKey, type SpareKey, type SpareKeyOptions } from './library.js';
export type { PasswordSignIn, SignUpFailure } from './service/accounts/accounts.js';
export type { DeletedUser, EmailChange, EnsuredUser, UserRef } from './service/accounts/host-users.js';
export type { UserRecord } from './service/accounts/user-lookup.js';
export type { CreatedApiKey } from './service/admin/api-keys.js';
export type { MfaReset } from './service/admin/reset-mfa.js';
export type { SettingsUpdate } from './service/admin/settings.js';
export type { DailyUse, RecoveryCodeStatistics } from './service/admin/statistics.js';
export type { ChainBreak, ChainVerification } from './service/audit/audit-log.js';
export type { FactorConfirmation } from './service/factors/complete-enrollment.js';
export type { TotpConfirmation } from './service/factors/confirm-totp.js';
export type { EmailOtpFailure } from './service/factors/email-otp.js';
export type { TotpEnrollment } from './service/factors/enroll-totp.js';
export type { MfaOverview } from './service/factors/manage-mfa.js';
export type { TotpFailure, TotpVerification } from './service/factors/verify-totp.js';
export type { IssuedRecoveryCodeSet } from './service/recovery-codes/prepare-recovery-code-set.js';
export type { RecoveryCodeStatus } from './service/recovery-codes/recovery-code-status.js';
export type { RecoveryCodeFailure, RecoveryOutcome } from './service/recovery-codes/verify-recovery-code.js';
export type { ThrottleFailure } from './service/throttle/throttle-counters.js';
