import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { expect, test } from 'vitest';
import { createSpareKey } from '../../src/index.js';

/**
 * Issue 18, strict schemas wherever the API runs: mounted in a host's Fastify app (fastifyPlugin) the
 * JSON API keeps its own rules, whatever the host's validator and JSON parser do. An unknown field, a
 * number where a string is expected and a 10,000-deep body are each a 400 in the error shape.
 */
test('the JSON API mounted in a host app refuses unknown fields, retyped fields and deep JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sparekey-strict-'));
  const sparekey = await createSpareKey({
    database: { kind: 'sqlite', path: join(dir, 'strict.db') },
    secret: Buffer.alloc(32, 9).toString('base64'),
    kdfProfile: 'minimum',
  });
  // A host with Fastify's defaults: its validator would strip unknown fields and coerce types.
  const host = Fastify();
  // With the end-user routes, so public sign-up (which takes no roles) is there to be sent extra fields.
  await host.register(sparekey.fastifyPlugin, { prefix: '/mfa', endUserRoutes: true });
  try {
    const signUp = (payload: string) =>
      host.inject({
        method: 'POST',
        url: '/mfa/api/v1/auth/sign-up',
        headers: { 'content-type': 'application/json' },
        payload,
      });
    const cases: [string, string][] = [
      [
        '{"email":"a@example.test","password":"saffron-lagoon-vessel-2","roles":["administrator"]}',
        'invalid_request',
      ],
      ['{"email":5,"password":"saffron-lagoon-vessel-2"}', 'invalid_request'],
      [`{"email":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, 'json_too_deep'],
    ];
    for (const [payload, code] of cases) {
      const response = await signUp(payload);
      expect(response.statusCode, payload.slice(0, 60)).toBe(400);
      expect(response.json()).toMatchObject({ error: { code, message: expect.any(String) } });
    }
  } finally {
    await host.close();
    await sparekey.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
