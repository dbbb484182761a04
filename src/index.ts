/** The package's public surface: the library, its types (every method's result), and the error catalog. */

export { type ErrorCode, errorMessages } from './core/errors.js';
export type { PostRecoveryPolicy, RecoveryCodeSettings } from './core/policy.js';
export type { Failure, Result } from './core/result.js';
export type { ThrottleOptions, ThrottlePolicy } from './core/throttle.js';
export { type Context, createSpareKey, type SpareKey, type SpareKeyOptions } from './library.js';
export type { PasswordSignIn, SignUpFailure } from './service/accounts.js';
export type { ChainBreak, ChainVerification } from './service/admin/audit-log.js';
export type { DailyUse, RecoveryCodeStatistics } from './service/admin/statistics.js';
export type { FactorConfirmation } from './service/complete-enrollment.js';
export type { TotpConfirmation } from './service/confirm-totp.js';
export type { EmailOtpFailure } from './service/email-otp.js';
export type { TotpEnrollment } from './service/enroll-totp.js';
export type { EnsuredUser, UserRef } from './service/host-users.js';
export type { MfaOverview } from './service/manage-mfa.js';
export type { IssuedRecoveryCodeSet } from './service/prepare-recovery-code-set.js';
export type { RecoveryCodeStatus } from './service/recovery-code-status.js';
export type { SettingsUpdate } from './service/settings.js';
export type { ThrottleFailure } from './service/throttle-counters.js';
export type { RecoveryCodeFailure, RecoveryOutcome } from './service/verify-recovery-code.js';
export type { TotpFailure } from './service/verify-totp.js';
export type { DeletedUser, UserRecord } from './store/store.js';
