import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';

/**
 * A real relying party on 127.0.0.1, built on openid-client (a certified RP library), as an application
 * would use SpareKey: discovery, the authorization code flow with PKCE (S256), state and nonce, the token
 * exchange with the ID token validated by openid-client against the provider's JWKS, and RP-initiated
 * logout. /login starts a sign-in (query parameters are added to the authorization request), /callback
 * finishes it; each finished sign-in is recorded for the test to read.
 */
export interface RelyingParty {
  url: string;
  callbackUrl: string;
  postLogoutUrl: string;
  config(): oidc.Configuration;
  /** Discovery at the issuer, as the registered client (after registration, which needs callbackUrl). */
  configure(client: ClientSettings): Promise<void>;
  /** The sign-ins finished at /callback, oldest first (a refused one holds the error). */
  results: RelyingPartyResult[];
  close(): Promise<void>;
}

export interface RelyingPartyResult {
  claims?: oidc.IDToken;
  tokens?: oidc.TokenEndpointResponse;
  /** What openid-client refused with, or the provider's error in the callback. */
  error?: string;
  /** The raw callback query (code, state, iss). */
  callbackQuery: Record<string, string>;
  /** The PKCE verifier this sign-in used (a replay test sends it again). */
  codeVerifier?: string;
}

export interface ClientSettings {
  issuer: string;
  clientId: string;
  /** Confidential clients: the secret and how it is sent. */
  clientSecret?: string;
  authMethod?: 'client_secret_basic' | 'client_secret_post';
}

export async function startRelyingParty(
  options: {
    /** Leave PKCE out of the authorization request (a refusal test). */
    withoutPkce?: boolean;
    /** Use this redirect URI in the request instead of the registered one (a refusal test). */
    redirectUriOverride?: string;
    /** Awaited when a callback arrives, before the code is redeemed (a test moves traffic meanwhile). */
    beforeTokenExchange?: () => Promise<void>;
  } = {},
): Promise<RelyingParty> {
  const pending = new Map<string, { verifier: string; nonce: string; maxAge?: number }>();
  const results: RelyingPartyResult[] = [];
  let config: oidc.Configuration | undefined;
  const server: Server = createServer((request, response) => {
    handle(request)
      .then(({ status, headers, body }) => {
        response.writeHead(status, headers);
        response.end(body);
      })
      .catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(String(error));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const callbackUrl = `${base}/callback`;

  async function handle(request: IncomingMessage) {
    const url = new URL(request.url ?? '/', base);
    if (!config) throw new Error('the relying party has no configuration yet');
    if (url.pathname === '/login') {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const extra = Object.fromEntries(url.searchParams);
      const parameters: Record<string, string> = {
        redirect_uri: options.redirectUriOverride ?? callbackUrl,
        scope: 'openid email profile groups',
        state,
        nonce,
        ...extra,
      };
      if (!options.withoutPkce) {
        parameters.code_challenge = await oidc.calculatePKCECodeChallenge(verifier);
        parameters.code_challenge_method = 'S256';
      }
      pending.set(state, { verifier, nonce, maxAge: extra.max_age ? Number(extra.max_age) : undefined });
      return {
        status: 302,
        headers: { location: oidc.buildAuthorizationUrl(config, parameters).href },
        body: '',
      };
    }
    if (url.pathname === '/callback') {
      const callbackQuery = Object.fromEntries(url.searchParams);
      const state = url.searchParams.get('state') ?? '';
      const checks = pending.get(state);
      try {
        if (!checks) throw new Error(`unknown state ${state}`);
        await options.beforeTokenExchange?.();
        const tokens = await oidc.authorizationCodeGrant(config, url, {
          pkceCodeVerifier: options.withoutPkce ? undefined : checks.verifier,
          expectedState: state,
          expectedNonce: checks.nonce,
          maxAge: checks.maxAge,
          idTokenExpected: true,
        });
        results.push({ claims: tokens.claims(), tokens, callbackQuery, codeVerifier: checks.verifier });
        return {
          status: 200,
          headers: { 'content-type': 'text/plain' },
          body: `signed in as ${tokens.claims()?.sub}`,
        };
      } catch (error) {
        const described = error as { error?: string; code?: string; message?: string };
        results.push({
          error: described.error ?? described.code ?? String(described.message),
          callbackQuery,
        });
        return {
          status: 200,
          headers: { 'content-type': 'text/plain' },
          body: `refused: ${results.at(-1)?.error}`,
        };
      }
    }
    if (url.pathname === '/signed-out')
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'signed out of the app' };
    return { status: 404, headers: {}, body: '' };
  }

  const rp: RelyingParty = {
    url: base,
    callbackUrl,
    postLogoutUrl: `${base}/signed-out`,
    config: () => {
      if (!config) throw new Error('no configuration');
      return config;
    },
    results,
    configure: async (client) => {
      const auth = !client.clientSecret
        ? oidc.None()
        : client.authMethod === 'client_secret_post'
          ? oidc.ClientSecretPost(client.clientSecret)
          : oidc.ClientSecretBasic(client.clientSecret);
      // The provider runs on http://127.0.0.1 in the tests: openid-client refuses plain http unless told.
      // Over TLS openid-client may skip an ID token's signature (the channel vouches for the issuer);
      // here it checks it against the provider's JWKS, so a bad or unpublished key fails the sign-in.
      config = await oidc.discovery(new URL(client.issuer), client.clientId, undefined, auth, {
        execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks],
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return rp;
}
