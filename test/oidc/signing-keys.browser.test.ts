import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../../src/build-server.js';
import { commands } from '../../src/cli/commands/index.js';
import type { Config } from '../../src/config/config.js';
import { readSealingKeysFile, sealingKeySource } from '../../src/config/sealing-keys-file.js';
import { buildSealingKeyRing, sealingKeyFromBytes } from '../../src/core/sealing-key-ring.js';
import { openSecret, sealedKeyId } from '../../src/core/secret-box.js';
import { NEXT_KEY_PUBLISHED_AHEAD_MS } from '../../src/service/oidc/signing-keys.js';
import { systemRandom } from '../../src/service/ports/system-random.js';
import { createUseCases } from '../../src/service/use-cases.js';
import { browserAvailable, newTestPage } from '../helpers/browser.js';
import { acknowledgeCodes, setUpAuthenticator, signUp, uniqueEmail } from '../helpers/browser-flows.js';
import {
  issuerOf,
  landedOnApp,
  passwordOnSpareKey,
  registerApp,
  totpOnSpareKey,
  useProviderWorld,
} from '../helpers/oidc-world.js';

/**
 * Issue 22, signing keys, with real tokens: an ID token signed before `sparekey oidc rotate-keys` still
 * validates against the JWKS afterwards while it lives; the new key is published ten minutes before it
 * signs, so an application's cached JWKS (openid-client checks every ID token's signature here) already
 * has it; then new tokens carry the new kid; `sparekey secret rotate`
 * re-seals the keys so the provider signs, and old tokens validate, without the old sealing key.
 * Tokens come from openid-client through Chromium; they are checked with `jose` against the published JWKS.
 */
describe.skipIf(!browserAvailable())('OpenID Connect signing keys, with tokens an application holds', () => {
  // Rotations reach the running provider on its next request, not 30 seconds later.
  const world = useProviderWorld('sqlite', { oidcKeyCheckIntervalMs: 0 });
  let context: BrowserContext;
  let page: Page;
  let email: string;
  let secret: string;
  let clientId: string;
  let clientSecret: string | null;
  let keyDir: string;
  /** ID tokens issued so far, oldest first. */
  const issued: string[] = [];

  beforeAll(async () => {
    ({ clientId, secret: clientSecret } = await registerApp(world.server, world.rp));
    ({ context, page } = await newTestPage(world.browser));
    email = uniqueEmail('oidc-keys');
    await signUp(page, world.server, email);
    ({ secret } = await setUpAuthenticator(page, world.server));
    await acknowledgeCodes(page);
    keyDir = mkdtempSync(join(tmpdir(), 'sparekey-oidc-sealing-'));
  });
  afterAll(async () => {
    await context?.close();
    rmSync(keyDir, { recursive: true, force: true });
  });

  const jwks = async (): Promise<JSONWebKeySet> =>
    (await (await fetch(`${issuerOf(world.server)}/jwks`)).json()) as JSONWebKeySet;
  const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid;
  /** The token's signature, issuer, audience and expiry checked against `keys`; throws when it fails. */
  const verify = (jwt: string, keys: JSONWebKeySet) =>
    jwtVerify(jwt, createLocalJWKSet(keys), { issuer: issuerOf(world.server), audience: clientId });

  /** A sign-in through the application (the browser's SpareKey session stands unless prompt=login). */
  async function idTokenFromApp(query = ''): Promise<string> {
    await page.goto(`${world.rp.url}/login${query}`);
    if (query.includes('prompt=login')) {
      await passwordOnSpareKey(page, email);
      await totpOnSpareKey(page, world.server, secret);
    }
    await landedOnApp(page, world.rp);
    const result = world.rp.results.at(-1);
    expect(result?.error).toBeUndefined();
    const idToken = String(result?.tokens?.id_token);
    issued.push(idToken);
    return idToken;
  }

  /**
   * Ten minutes on (SpareKey's clock): the new key signs from now. The application's JWKS copy is that
   * old too, and openid-client fetches again a copy older than five minutes: a new discovery stands for it.
   */
  async function tenMinutesLater(): Promise<void> {
    world.server.env.clock.advance(NEXT_KEY_PUBLISHED_AHEAD_MS);
    await world.rp.configure({
      issuer: issuerOf(world.server),
      clientId,
      clientSecret: clientSecret ?? undefined,
    });
  }

  async function cli(args: string, config: Partial<Config> = {}): Promise<string> {
    const lines: string[] = [];
    const io = {
      out: (line: string) => lines.push(line),
      err: (line: string) => lines.push(line),
      stdin: async () => '',
    };
    const useCases = createUseCases(world.server.env.deps);
    const status = await commands[args]?.run(useCases, { positionals: [], values: {} }, io, config as Config);
    expect(status, lines.join('\n')).toBe(0);
    return lines.join('\n');
  }

  test('a token signed before rotate-keys validates against the JWKS afterwards; new tokens carry the new kid', async () => {
    const before = await idTokenFromApp();
    const firstKid = kidOf(before);
    expect((await jwks()).keys.map((key) => key.kid)).toEqual([firstKid]);

    expect(await cli('oidc rotate-keys')).toMatch(/^New signing key /);
    const early = await jwks();
    expect(early.keys).toHaveLength(2);
    const nextKid = early.keys[1]?.kid;
    await expect(verify(before, early)).resolves.toBeDefined();
    // Published but not yet signing: the application, holding the JWKS it fetched before, still validates.
    expect(kidOf(await idTokenFromApp())).toBe(firstKid);

    await tenMinutesLater();
    const published = await jwks();
    expect(published.keys.map((key) => key.kid)).toEqual([nextKid, firstKid]);
    await expect(verify(before, published)).resolves.toBeDefined();
    const after = await idTokenFromApp();
    expect(kidOf(after)).toBe(published.keys[0]?.kid);
    expect(kidOf(after)).not.toBe(firstKid);
    await expect(verify(after, published)).resolves.toBeDefined();

    // The retired key stays published at least as long as the token it signed lives.
    const { payload } = await verify(before, published);
    const retired = (
      await world.server.env.deps.store.listOidcSigningKeys(world.server.env.clock.now())
    ).find((row) => row.kid === firstKid);
    expect(retired?.expiresAt?.getTime()).toBeGreaterThanOrEqual(Number(payload.exp) * 1000);
  });

  test('after secret rotate re-seals the keys, the old sealing key opens none of them, the provider still signs and old tokens still validate', async () => {
    const { deps } = world.server.env;
    const oldSealingKey = deps.keys.sealingKey;
    const keyFile = join(keyDir, 'sealing-keys');
    deps.sealingKeys = sealingKeySource({ source: 'file', path: keyFile }, oldSealingKey);
    const config = { sealingKeys: { source: 'file', path: keyFile }, database: { kind: 'sqlite' } };
    const out = await cli('secret rotate', config as Partial<Config>);
    expect(out).toMatch(/Re-sealed 1 TOTP seeds and 2 OpenID Connect signing keys under [0-9a-f]{8}/);
    const [newSealingKey] = readSealingKeysFile(keyFile);

    const oldRing = buildSealingKeyRing([], oldSealingKey);
    const rows = await deps.store.listOidcSigningKeys(deps.clock.now());
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(sealedKeyId(row.sealedJwk)).toBe(newSealingKey?.id);
      expect(openSecret(oldRing.opening, row.sealedJwk, `oidc-key:${row.kid}`)).toBeUndefined();
    }

    // The old sealing key taken away entirely (the server-secret key replaced by an unrelated one).
    const stranger = sealingKeyFromBytes(systemRandom.bytes(32));
    deps.sealingKeys = { ring: () => buildSealingKeyRing(readSealingKeysFile(keyFile), stranger) };
    const publishedBefore = await jwks();

    // A server started now opens the keys from the store: the same public keys, so old tokens validate.
    const restarted = await buildServer({ deps, oidcKeyCheckIntervalMs: 0 });
    try {
      await restarted.ready();
      const restartedJwks = (
        await restarted.inject({ method: 'GET', url: '/oidc/jwks' })
      ).json() as JSONWebKeySet;
      expect(restartedJwks).toEqual(publishedBefore);
      for (const token of issued) await expect(verify(token, restartedJwks)).resolves.toBeDefined();
    } finally {
      await restarted.close();
    }

    // The running server reloads every key from the store at the next rotation: with only the new
    // sealing key it still opens the re-sealed ones, signs with the newest, and the old tokens validate.
    await cli('oidc rotate-keys');
    expect(kidOf(await idTokenFromApp())).toBe(publishedBefore.keys[0]?.kid);
    await tenMinutesLater();
    const fresh = await idTokenFromApp('?prompt=login');
    const published = await jwks();
    expect(published.keys.map((key) => key.kid)).toEqual([
      kidOf(fresh),
      ...publishedBefore.keys.map((key) => key.kid),
    ]);
    for (const token of issued) await expect(verify(token, published)).resolves.toBeDefined();
  });
});
