/** The package's public surface: the library, its types, and the error catalog. */

export { type ErrorCode, errorMessages } from './core/errors.js';
export type { PostRecoveryPolicy, RecoveryCodeSettings } from './core/policy.js';
export type { Result } from './core/result.js';
export type { ThrottleOptions, ThrottlePolicy } from './core/throttle.js';
export { type Context, createSpareKey, type SpareKey, type SpareKeyOptions } from './library.js';
