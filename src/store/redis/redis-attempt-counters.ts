import type { Redis } from 'ioredis';
import type {
  AttemptKind,
  ChargeVerdict,
  SettleMode,
  ThrottlePolicy,
  ThrottleState,
} from '../../core/throttle.js';
import type { AttemptCounters } from '../store.js';

/*
 * The throttle counters in Redis (REDIS_URL), for deployments that want them off the database. Each decision
 * is one Lua script, which Redis runs atomically, so concurrent charges from any number of processes are
 * serialized like the database's row lock. The scripts mirror core/throttle.ts line for line, and a
 * property test replays random attempt sequences through both and demands the same answers.
 * Redis counters live in memory: a Redis restart forgets blocks and locks (docs/security.md).
 */

const CHARGE = `
local s = redis.call('HMGET', KEYS[1], 'failures', 'blocked_until', 'locked_at', 'updated_at')
local failures = tonumber(s[1]) or 0
local blocked = tonumber(s[2])
local locked = tonumber(s[3])
local updated = tonumber(s[4]) or 0
local now = tonumber(ARGV[1])
if locked and ARGV[2] == 'second_factor' then return {'locked', 0, 0, locked} end
if blocked and blocked > now then return {'blocked', blocked - now, 0, locked or -1} end
local free, base, cap = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local lockAfter, forget = tonumber(ARGV[6]), tonumber(ARGV[7])
if forget >= 0 and not locked and now - updated >= forget then failures = 0 end
failures = failures + 1
local delay = 0
if failures >= free then delay = math.min(base * 2 ^ math.min(failures - free, 40), cap) end
local lockedNow = 0
if not locked and lockAfter >= 0 and failures >= lockAfter then locked = now; lockedNow = 1 end
local blockedUntil = ''
-- As core: the failure that locks sets no block, so the owner's password step for the unlock link is open.
if delay > 0 and lockedNow == 0 then blockedUntil = now + delay end
redis.call('HSET', KEYS[1], 'failures', failures, 'blocked_until', blockedUntil,
  'locked_at', locked or '', 'updated_at', now)
redis.call('PEXPIRE', KEYS[1], ARGV[8])
return {'charged', failures, lockedNow, locked or -1}
`;

const SETTLE = `
if ARGV[1] == 'reset' then redis.call('DEL', KEYS[1]) return 0 end
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures'))
if not failures then return 0 end
failures = math.max(0, failures - 1)
redis.call('HSET', KEYS[1], 'failures', failures, 'blocked_until', '', 'updated_at', ARGV[2])
local lockAfter = tonumber(ARGV[3])
if lockAfter >= 0 and failures < lockAfter then redis.call('HSET', KEYS[1], 'locked_at', '') end
return 0
`;

/** How long an idle counter is kept: long enough to outlive any block, and locks are kept for 30 days. */
function retentionMs(policy: ThrottlePolicy): number {
  const thirtyDays = 30 * 24 * 60 * 60_000;
  return Math.max(policy.forgetAfterMs ?? thirtyDays, policy.maxDelayMs, policy.lockAfter ? thirtyDays : 0);
}

export interface RedisAttemptCounters extends AttemptCounters {
  close(): Promise<void>;
}

export function createRedisAttemptCounters(
  url: string,
  options: { prefix?: string } = {},
): RedisAttemptCounters {
  // ioredis is loaded with the first counter operation, not when this module is: a deployment without
  // REDIS_URL never loads it (it is among the largest dependencies in a process's memory).
  let client: Promise<Redis> | undefined;
  const connection = (): Promise<Redis> => {
    client ??= import('ioredis').then(
      ({ Redis }) => new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true }),
    );
    return client;
  };
  const prefix = options.prefix ?? 'sparekey:throttle:';
  const name = (key: string) => `${prefix}${key}`;
  return {
    async chargeAttempt(
      key: string,
      policy: ThrottlePolicy,
      kind: AttemptKind,
      at: Date,
    ): Promise<ChargeVerdict> {
      const redis = await connection();
      const [outcome, value, lockedNow, lockedAtOrNone] = (await redis.eval(
        CHARGE,
        1,
        name(key),
        at.getTime(),
        kind,
        policy.freeFailures,
        policy.baseDelayMs,
        policy.maxDelayMs,
        policy.lockAfter ?? -1,
        policy.forgetAfterMs ?? -1,
        retentionMs(policy),
      )) as [string, number, number, number];
      // A Lua nil would end the reply's array, so the script says "no lock" with -1.
      const lockedAt = lockedAtOrNone === -1 ? null : Number(lockedAtOrNone);
      if (outcome === 'locked') return { charged: false, reason: 'locked', lockedAt: Number(lockedAtOrNone) };
      if (outcome === 'blocked') {
        return { charged: false, reason: 'blocked', retryAfterMs: Number(value), lockedAt };
      }
      return { charged: true, failures: Number(value), lockedNow: lockedNow === 1, lockedAt };
    },
    async settleAttempt(key: string, policy: ThrottlePolicy, mode: SettleMode, at: Date): Promise<void> {
      await (await connection()).eval(SETTLE, 1, name(key), mode, at.getTime(), policy.lockAfter ?? -1);
    },
    async clearAttempts(key: string): Promise<void> {
      await (await connection()).del(name(key));
    },
    async findAttempts(key: string): Promise<ThrottleState | undefined> {
      const fields = await (await connection()).hgetall(name(key));
      if (fields.failures === undefined) return undefined;
      const numberOrNull = (text: string | undefined) => (text ? Number(text) : null);
      return {
        failures: Number(fields.failures),
        blockedUntil: numberOrNull(fields.blocked_until),
        lockedAt: numberOrNull(fields.locked_at),
        updatedAt: Number(fields.updated_at ?? 0),
      };
    },
    async close(): Promise<void> {
      if (client) await (await client).quit();
    },
  };
}
