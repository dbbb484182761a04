import type { ErrorCode } from './errors.js';

/** Expected outcomes are values, not exceptions: the edges switch on `ok` and `error` and never guess. */
/** A refusal may say how long to wait before trying again (throttled attempts). */
export type Failure<E extends ErrorCode = ErrorCode> = { ok: false; error: E; retryAfterSeconds?: number };

export type Result<T, E extends ErrorCode = ErrorCode> = { ok: true; value: T } | Failure<E>;

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const fail = <E extends ErrorCode>(error: E): { ok: false; error: E } => ({ ok: false, error });
