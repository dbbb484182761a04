import {
  DEFAULT_ACCOUNT_THROTTLE,
  DEFAULT_ADDRESS_THROTTLE,
  DEFAULT_THROTTLE_OPTIONS,
  type ThrottleOptions,
  throttlePolicyProblems,
} from '../core/throttle.js';

/** Throttle settings and where the counters live: the database by default, Redis with REDIS_URL. */
export interface ThrottleConfig {
  options: ThrottleOptions;
  redisUrl: string | null;
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: string[]): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    problems.push(`${name} must be a whole number of at least 1, not "${text}".`);
    return fallback;
  }
  return value;
}

/**
 * SPAREKEY_THROTTLE_FREE_FAILURES (5), SPAREKEY_THROTTLE_LOCK_AFTER (20), SPAREKEY_THROTTLE_BASE_DELAY_SECONDS
 * (30), SPAREKEY_THROTTLE_MAX_DELAY_SECONDS (3600), SPAREKEY_THROTTLE_ADDRESS_FREE_FAILURES (20), REDIS_URL.
 */
export function parseThrottleConfig(env: NodeJS.ProcessEnv, problems: string[]): ThrottleConfig {
  const base = DEFAULT_ACCOUNT_THROTTLE;
  const baseDelayMs =
    wholeNumber(env, 'SPAREKEY_THROTTLE_BASE_DELAY_SECONDS', base.baseDelayMs / 1000, problems) * 1000;
  const maxDelayMs =
    wholeNumber(env, 'SPAREKEY_THROTTLE_MAX_DELAY_SECONDS', base.maxDelayMs / 1000, problems) * 1000;
  const account = {
    ...base,
    freeFailures: wholeNumber(env, 'SPAREKEY_THROTTLE_FREE_FAILURES', base.freeFailures, problems),
    lockAfter: wholeNumber(env, 'SPAREKEY_THROTTLE_LOCK_AFTER', base.lockAfter ?? 20, problems),
    baseDelayMs,
    maxDelayMs,
  };
  const address = {
    ...DEFAULT_ADDRESS_THROTTLE,
    freeFailures: wholeNumber(
      env,
      'SPAREKEY_THROTTLE_ADDRESS_FREE_FAILURES',
      DEFAULT_ADDRESS_THROTTLE.freeFailures,
      problems,
    ),
    baseDelayMs,
    maxDelayMs,
  };
  for (const problem of [...throttlePolicyProblems(account), ...throttlePolicyProblems(address)]) {
    problems.push(`Throttle settings: ${problem}`);
  }
  const redisUrl = env.REDIS_URL?.trim() || null;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) {
    problems.push(`REDIS_URL must look like redis://127.0.0.1:6379, not "${redisUrl}".`);
  }
  return { options: { ...DEFAULT_THROTTLE_OPTIONS, account, address }, redisUrl };
}
