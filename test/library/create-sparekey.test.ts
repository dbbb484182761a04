import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createSpareKey } from '../../src/index.js';
import { testEngines } from '../helpers/engines.js';
import { testDatabaseUrl, uniqueSchemaName } from '../helpers/postgres.js';
import { totpCode } from '../helpers/rfc6238.js';

const secret = Buffer.alloc(32, 5).toString('base64');

describe.each(testEngines())('the library on %s', (engine) => {
  test('createSpareKey: a user, an authenticator, codes shown once, one used, the status, the audit chain', async () => {
    const database =
      engine === 'sqlite'
        ? ({ kind: 'sqlite', path: join(mkdtempSync(join(tmpdir(), 'sparekey-lib-')), 'lib.db') } as const)
        : ({ kind: 'postgres', url: testDatabaseUrl, schema: uniqueSchemaName('lib') } as const);
    const sparekey = await createSpareKey({ database, secret, issuer: 'Example', kdfProfile: 'minimum' });
    try {
      expect((await sparekey.admin.updateSettings({ enabled: true })).ok).toBe(true);
      const user = await sparekey.users.create({
        email: 'lib@example.test',
        password: 'quiet-harbor-lantern-7',
      });
      if (!user.ok) throw new Error(user.error);
      const enrollment = await sparekey.mfa.enrollTotp({ userId: user.value.userId });
      if (!enrollment.ok) throw new Error(enrollment.error);
      expect(enrollment.value.uri).toMatch(/^otpauth:\/\/totp\/Example:lib%40example\.test\?/);
      const confirmed = await sparekey.mfa.confirmTotp({
        userId: user.value.userId,
        factorId: enrollment.value.factorId,
        code: totpCode(enrollment.value.secret, { timeMs: Date.now() }),
      });
      if (!confirmed.ok) throw new Error(confirmed.error);
      const codes = confirmed.value.recoveryCodes?.codes ?? [];
      expect(codes).toHaveLength(10);
      const used = await sparekey.recoveryCodes.verify({
        userId: user.value.userId,
        code: codes[0] as string,
      });
      expect(used).toEqual({ ok: true, value: { policy: 'continue', remaining: 9, total: 10, low: false } });
      expect(
        await sparekey.recoveryCodes.verify({ userId: user.value.userId, code: codes[0] as string }),
      ).toEqual({
        ok: false,
        error: 'code_already_used',
      });
      expect(await sparekey.recoveryCodes.status(user.value.userId)).toMatchObject({
        hasCodes: true,
        remaining: 9,
      });
      expect((await sparekey.admin.statistics()).usedToday).toBe(1);
      expect((await sparekey.admin.verifyAuditChain()).ok).toBe(true);
    } finally {
      await sparekey.close();
    }
  });
});

test('createSpareKey refuses a short secret and an unknown time zone with a clear error', async () => {
  const database = { kind: 'sqlite', path: ':memory:' } as const;
  await expect(createSpareKey({ database, secret: 'short' })).rejects.toThrow('at least 32 random bytes');
  await expect(createSpareKey({ database, secret, timeZone: 'Mars/Base' })).rejects.toThrow(
    'unknown time zone',
  );
});

test('fastifyPlugin mounts the JSON API under a prefix of the host app (end-user routes only when asked)', async () => {
  const { default: Fastify } = await import('fastify');
  const sparekey = await createSpareKey({
    database: { kind: 'sqlite', path: join(mkdtempSync(join(tmpdir(), 'sparekey-plugin-')), 'p.db') },
    secret,
    kdfProfile: 'minimum',
  });
  const host = Fastify();
  await host.register(sparekey.fastifyPlugin, { prefix: '/mfa', endUserRoutes: true });
  host.get('/', async () => 'host');
  try {
    const signUp = await host.inject({
      method: 'POST',
      url: '/mfa/api/v1/auth/sign-up',
      payload: { email: 'plugin@example.test', password: 'saffron-lagoon-vessel-2' },
    });
    expect(signUp.statusCode).toBe(202);
    const unauthorized = await host.inject({ url: '/mfa/api/v1/statistics' });
    expect(unauthorized.json()).toMatchObject({ error: { code: 'api_key_required' } });
    expect((await host.inject({ url: '/' })).body).toBe('host');
  } finally {
    await host.close();
    await sparekey.close();
  }
});
