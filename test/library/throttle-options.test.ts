import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, test } from 'vitest';
import { createSpareKey } from '../../src/index.js';

const secret = Buffer.alloc(32, 6).toString('base64');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('the library throttles failed attempts', () => {
  test('with its own policy, counters in Redis when redisUrl is given', async () => {
    const database = {
      kind: 'sqlite',
      path: join(mkdtempSync(join(tmpdir(), 'sparekey-lib-')), 'lib.db'),
    } as const;
    const sparekey = await createSpareKey({
      database,
      secret,
      kdfProfile: 'minimum',
      redisUrl: REDIS_URL,
      throttle: {
        account: {
          freeFailures: 3,
          baseDelayMs: 10_000,
          maxDelayMs: 60_000,
          lockAfter: 10,
          forgetAfterMs: null,
        },
      },
    });
    const redis = new Redis(REDIS_URL);
    try {
      const email = `lib-throttle-${Date.now()}@example.test`;
      const created = await sparekey.users.create({ email, password: 'quiet-harbor-lantern-7' });
      if (!created.ok) throw new Error(created.error);
      const attempts = [];
      for (let i = 0; i < 4; i += 1) {
        attempts.push(await sparekey.users.checkPassword({ email, password: 'wrong password!' }));
      }
      expect(attempts.map((a) => (a.ok ? 'ok' : a.error))).toEqual([
        'wrong_credentials',
        'wrong_credentials',
        'wrong_credentials',
        'too_many_attempts',
      ]);
      expect(attempts[3]).toMatchObject({ retryAfterSeconds: 10 });
      // The counter is in Redis, not in the database.
      const stored = await redis.hgetall(`sparekey:throttle:account:${created.value.userId}`);
      expect(stored.failures).toBe('3');
    } finally {
      redis.disconnect();
      await sparekey.close();
    }
  });
});
