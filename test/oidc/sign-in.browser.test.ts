import { describe, expect, test } from 'vitest';
import { browserAvailable, newTestPage } from '../helpers/browser.js';
import {
  acknowledgeCodes,
  setUpAuthenticator,
  signOut,
  signUp,
  uniqueEmail,
} from '../helpers/browser-flows.js';
import {
  issuerOf,
  landedOnApp,
  passwordOnSpareKey,
  registerApp,
  totpOnSpareKey,
  useProviderWorld,
} from '../helpers/oidc-world.js';

describe.skipIf(!browserAvailable())('an application signs people in with SpareKey (OpenID Connect)', () => {
  const world = useProviderWorld();

  test('discovery names the issuer from the public address, S256 PKCE, the code flow and iss in responses; the JWKS is public keys only', async () => {
    const issuer = issuerOf(world.server);
    const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(discovery.issuer).toBe(issuer);
    expect(discovery.authorization_response_iss_parameter_supported).toBe(true);
    expect(discovery.code_challenge_methods_supported).toEqual(['S256']);
    expect(discovery.response_types_supported).toEqual(['code']);
    expect(discovery.end_session_endpoint).toBe(`${issuer}/session/end`);
    expect(discovery.scopes_supported).toEqual(
      expect.arrayContaining(['openid', 'email', 'profile', 'groups']),
    );
    const jwks = (await (await fetch(String(discovery.jwks_uri))).json()) as {
      keys: Record<string, unknown>[];
    };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    for (const privatePart of ['d', 'p', 'q', 'dp', 'dq', 'qi'])
      expect(jwks.keys[0]).not.toHaveProperty(privatePart);
  });

  test('PKCE authorization, SpareKey sign-in with TOTP, callback, token exchange: the ID token validates and says pwd + otp + mfa', async () => {
    const { server, rp, browser } = world;
    const { clientId } = await registerApp(server, rp);
    const { context, page } = await newTestPage(browser);
    try {
      const email = uniqueEmail('oidc-totp');
      await signUp(page, server, email);
      const { secret } = await setUpAuthenticator(page, server);
      await acknowledgeCodes(page);
      await signOut(page);

      await page.goto(`${rp.url}/login`);
      await passwordOnSpareKey(page, email);
      await totpOnSpareKey(page, server, secret);
      expect(await landedOnApp(page, rp)).toMatch(/^signed in as /);

      const result = rp.results.at(-1);
      expect(result?.error).toBeUndefined();
      const user = await server.env.deps.store.findUserByEmail(email);
      expect(result?.claims).toMatchObject({
        iss: issuerOf(server),
        aud: clientId,
        sub: user?.id,
        amr: ['pwd', 'otp', 'mfa'],
        acr: 'urn:sparekey:acr:2fa',
        email,
        groups: user?.roles,
      });
      expect(typeof result?.claims?.auth_time).toBe('number');
      // RFC 9207: the authorization response names its issuer.
      expect(result?.callbackQuery.iss).toBe(issuerOf(server));

      const events = await server.env.deps.store.listAuditEvents({ limit: 20, action: 'oidc_sign_in' });
      expect(events[0]).toMatchObject({
        userId: user?.id,
        details: { client_id: clientId, amr: 'pwd otp mfa' },
      });
    } finally {
      await context.close();
    }
  });
});
