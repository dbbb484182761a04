import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  createRedisAttemptCounters,
  type RedisAttemptCounters,
} from '../../src/store/redis/redis-attempt-counters.js';

/** The Redis the tests use: REDIS_URL, or the machine's local server. */
export const testRedisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether Redis answers; under CI a missing Redis is a failure, like PostgreSQL, never a skip. */
export async function redisAvailable(): Promise<boolean> {
  const probe = new Redis(testRedisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let reachable = false;
  try {
    await probe.connect();
    await probe.ping();
    reachable = true;
  } catch {
    reachable = false;
  } finally {
    probe.disconnect();
  }
  if (!reachable && process.env.CI === 'true')
    throw new Error(`Redis is required under CI (${testRedisUrl})`);
  return reachable;
}

/** Counters under a key prefix of their own, so parallel runs and leftovers never meet. */
export function testRedisCounters(): RedisAttemptCounters {
  return createRedisAttemptCounters(testRedisUrl, { prefix: `sparekey-test:${randomUUID()}:` });
}
