import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../../src/build-server.js';
import { commands } from '../../src/cli/commands/index.js';
import {
  NEXT_KEY_PUBLISHED_AHEAD_MS,
  RETIRED_KEY_PUBLISHED_MS,
} from '../../src/service/oidc/signing-keys.js';
import { createUseCases } from '../../src/service/use-cases.js';
import { createTestEnvironment, type TestEnvironment } from '../helpers/service-deps.js';

/**
 * `sparekey oidc rotate-keys`: a new key is published first and signs ten minutes later (applications'
 * copies of the JWKS have it by then); the previous one stays in the JWKS until what it signed expires.
 */
describe('OpenID Connect signing-key rotation', () => {
  let env: TestEnvironment;
  let app: Awaited<ReturnType<typeof buildServer>>;
  beforeAll(async () => {
    env = await createTestEnvironment('sqlite');
    env.deps.options.publicUrl = 'http://sparekey.test';
    app = await buildServer({ deps: env.deps, oidcKeyCheckIntervalMs: 0 });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await env.close();
  });
  const jwks = async () =>
    (
      (await app.inject({ method: 'GET', url: '/oidc/jwks' })).json() as {
        keys: { kid: string; d?: string }[];
      }
    ).keys;

  test('generated at start, sealed at rest; rotation publishes the new key ahead of signing with it and keeps the old until expiry', async () => {
    const [first] = await jwks();
    expect(first?.kid).toBeDefined();
    const [row] = await env.deps.store.listOidcSigningKeys(env.clock.now());
    // Sealed like the TOTP seeds: the stored form is a sealed box, never the private JWK.
    expect(row?.sealedJwk).toMatch(/^v1\./);
    expect(row?.sealedJwk).not.toContain('"d"');

    env.clock.advance(60_000);
    const lines: string[] = [];
    const io = { out: (line: string) => lines.push(line), err: (line: string) => lines.push(line) };
    const useCases = createUseCases(env.deps);
    // biome-ignore lint/suspicious/noExplicitAny: the config is not read by this command
    expect(await commands['oidc rotate-keys']?.run(useCases, [] as any, io as any, {} as any)).toBe(0);
    const published = await jwks();
    expect(published.map((key) => key.kid)).toHaveLength(2);
    // Published, but the old key still signs (the provider signs with the first key of its JWKS).
    expect(published[0]?.kid).toBe(first?.kid);
    expect(published.every((key) => key.d === undefined)).toBe(true);
    const next = published[1]?.kid;
    expect(lines.join('\n')).toContain(String(next));
    env.clock.advance(NEXT_KEY_PUBLISHED_AHEAD_MS - 2000);
    expect((await jwks())[0]?.kid).toBe(first?.kid);
    // Ten minutes on, the new key signs; the old one stays published.
    env.clock.advance(2000);
    const after = await jwks();
    expect(after.map((key) => key.kid)).toEqual([next, first?.kid]);
    const events = await env.deps.store.listAuditEvents({ limit: 5, action: 'oidc_keys_rotated' });
    expect(events).toHaveLength(1);

    // Past the retired key's publication it is gone from the JWKS (and the purge deletes it).
    env.clock.advance(RETIRED_KEY_PUBLISHED_MS + 1000);
    expect((await jwks()).map((key) => key.kid)).toEqual([after[0]?.kid]);
  });
});
