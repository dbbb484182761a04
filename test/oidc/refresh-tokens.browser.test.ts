import * as oidc from 'openid-client';
import { describe, expect, test } from 'vitest';
import { browserAvailable, newTestPage } from '../helpers/browser.js';
import { signUp, uniqueEmail } from '../helpers/browser-flows.js';
import { landedOnApp, registerApp, useProviderWorld } from '../helpers/oidc-world.js';

/** What a refused token request says (error, and its description after a colon), as openid-client reports it. */
async function refusal(attempt: Promise<unknown>): Promise<string> {
  try {
    await attempt;
  } catch (error) {
    const described = error as {
      error?: string;
      error_description?: string;
      code?: string;
      message?: string;
    };
    const code = described.error ?? described.code ?? String(described.message);
    return described.error_description ? `${code}: ${described.error_description}` : code;
  }
  return 'accepted';
}

/**
 * Issue 22, refresh tokens (RFC 9700 2.2.2 and 4.14): issued only to an application allowed
 * `offline_access` that asked for it and was granted it, rotated on every use, and a used one presented
 * again (a stolen copy) revokes the whole grant. Everything through openid-client against the real provider.
 */
describe.skipIf(!browserAvailable())('refresh tokens', () => {
  const world = useProviderWorld();
  /** offline_access is only honoured with prompt=consent (OpenID Connect Core 11); first-party: no page. */
  const OFFLINE = 'scope=openid%20email%20offline_access&prompt=consent';

  async function signedInBrowser() {
    const { context, page } = await newTestPage(world.browser);
    // Signing up leaves the browser signed in to SpareKey: the applications below go straight through.
    await signUp(page, world.server, uniqueEmail('oidc-refresh'));
    return { context, page };
  }

  test('an application allowed offline_access that asks for it gets one; each use rotates it; a used one replayed revokes the grant', async () => {
    const { server, rp } = world;
    await registerApp(server, rp, { scopes: ['openid', 'email', 'offline_access'] });
    const { context, page } = await signedInBrowser();
    try {
      await page.goto(`${rp.url}/login?${OFFLINE}`);
      await landedOnApp(page, rp);
      const first = rp.results.at(-1);
      expect(first?.error).toBeUndefined();
      expect(first?.tokens?.scope?.split(' ')).toContain('offline_access');
      const original = String(first?.tokens?.refresh_token);
      expect(first?.tokens?.refresh_token).toEqual(expect.any(String));
      const sub = String(first?.claims?.sub);

      // Rotation: the answer carries a new refresh token, and a new ID token for the same person.
      const rotated = await oidc.refreshTokenGrant(rp.config(), original);
      expect(rotated.refresh_token).toEqual(expect.any(String));
      expect(rotated.refresh_token).not.toBe(original);
      expect(rotated.claims()?.sub).toBe(sub);
      expect((await oidc.fetchUserInfo(rp.config(), rotated.access_token, sub)).email).toBeDefined();
      // A second rotation from the new token works: the chain continues.
      const again = await oidc.refreshTokenGrant(rp.config(), String(rotated.refresh_token));
      expect(again.refresh_token).not.toBe(rotated.refresh_token);

      // The first token, already used, is refused...
      expect(await refusal(oidc.refreshTokenGrant(rp.config(), original))).toBe(
        'invalid_grant: grant request is invalid',
      );
      // ...and its reuse is taken as theft (RFC 9700 4.14.2): the newest token and its access token die too.
      expect(await refusal(oidc.refreshTokenGrant(rp.config(), String(again.refresh_token)))).toMatch(
        /^invalid_grant/,
      );
      expect(await refusal(oidc.fetchUserInfo(rp.config(), again.access_token, sub))).not.toBe('accepted');
    } finally {
      await context.close();
    }
  });

  test('one refresh token redeemed twice at once: at most one answer carries tokens, and the race counts as reuse (the grant is revoked)', async () => {
    const { server, rp } = world;
    await registerApp(server, rp, { scopes: ['openid', 'email', 'offline_access'] });
    const { context, page } = await signedInBrowser();
    try {
      await page.goto(`${rp.url}/login?${OFFLINE}`);
      await landedOnApp(page, rp);
      const token = String(rp.results.at(-1)?.tokens?.refresh_token);
      const sub = String(rp.results.at(-1)?.claims?.sub);
      const answers = await Promise.allSettled([
        oidc.refreshTokenGrant(rp.config(), token),
        oidc.refreshTokenGrant(rp.config(), token),
      ]);
      const won = answers.flatMap((answer) => (answer.status === 'fulfilled' ? [answer.value] : []));
      expect(won.length).toBeLessThanOrEqual(1);
      // Whatever the winner got is dead: one token used twice means someone else holds a copy.
      for (const tokens of won) {
        expect(await refusal(oidc.refreshTokenGrant(rp.config(), String(tokens.refresh_token)))).toMatch(
          /^invalid_grant/,
        );
        expect(await refusal(oidc.fetchUserInfo(rp.config(), tokens.access_token, sub))).not.toBe('accepted');
      }
    } finally {
      await context.close();
    }
  });

  test('no refresh token when the allowed application does not ask for offline_access, or asks without prompt=consent', async () => {
    const { server, rp } = world;
    await registerApp(server, rp, { scopes: ['openid', 'email', 'offline_access'] });
    const { context, page } = await signedInBrowser();
    try {
      await page.goto(`${rp.url}/login?scope=openid%20email`);
      await landedOnApp(page, rp);
      expect(rp.results.at(-1)?.tokens?.access_token).toEqual(expect.any(String));
      expect(rp.results.at(-1)?.tokens?.refresh_token).toBeUndefined();

      await page.goto(`${rp.url}/login?scope=openid%20email%20offline_access`);
      await landedOnApp(page, rp);
      expect(rp.results.at(-1)?.error).toBeUndefined();
      expect(rp.results.at(-1)?.tokens?.scope?.split(' ')).not.toContain('offline_access');
      expect(rp.results.at(-1)?.tokens?.refresh_token).toBeUndefined();
    } finally {
      await context.close();
    }
  });

  test('an application not allowed offline_access never gets a refresh token, even asking with prompt=consent', async () => {
    const { server, rp } = world;
    await registerApp(server, rp, { scopes: ['openid', 'email'] });
    const { context, page } = await signedInBrowser();
    try {
      await page.goto(`${rp.url}/login?${OFFLINE}`);
      await landedOnApp(page, rp);
      const result = rp.results.at(-1);
      // The sign-in itself succeeds; offline_access is dropped from what is granted.
      expect(result?.error).toBeUndefined();
      expect(result?.tokens?.access_token).toEqual(expect.any(String));
      expect(result?.tokens?.scope?.split(' ')).not.toContain('offline_access');
      expect(result?.tokens?.refresh_token).toBeUndefined();
      // Nor may it use the refresh grant at all: its registration lacks the grant type.
      expect(await refusal(oidc.refreshTokenGrant(rp.config(), 'any-token'))).toBe(
        'invalid_request: requested grant type is not allowed for this client',
      );
    } finally {
      await context.close();
    }
  });
});
