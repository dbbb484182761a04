import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import { clientSecretMatches } from '../service/oidc/clients.js';
import { OIDC_MOUNT_PATH } from '../service/oidc/issuer.js';
import { ACR_ONE_FACTOR, ACR_TWO_FACTORS } from '../service/oidc/sign-in-evidence.js';
import type { UseCases } from '../service/use-cases.js';
import { errorPage, logoutPage, signedOutPage } from './oidc-pages.js';
import { sessionStillValidCheck } from './session-check.js';

/** Where the provider lives (the issuer's path); defined with the issuer in service/oidc/issuer.ts. */
export { OIDC_MOUNT_PATH };

/**
 * Token lifetimes. ID and access tokens live an hour: the rotated-out signing key stays published for
 * two after the next one starts signing (RETIRED_KEY_PUBLISHED_MS), so every token it signed expires
 * before it goes.
 */
export const OIDC_TOKEN_TTL_SECONDS = {
  AccessToken: 60 * 60,
  AuthorizationCode: 60,
  IdToken: 60 * 60,
  RefreshToken: 14 * 24 * 60 * 60,
  Interaction: 30 * 60,
  Session: 14 * 24 * 60 * 60,
  Grant: 14 * 24 * 60 * 60,
} as const;

/**
 * The provider, configured as RFC 9700 asks where oidc-provider leaves a choice: the code flow only,
 * PKCE (S256 only) required of public clients, exact redirect URIs (never omitted), refresh tokens only
 * with offline_access and rotated on every use, `iss` in authorization responses (RFC 9207, the
 * library's default), RS256 ID tokens. All state goes through the store adapter.
 */
export async function createOidcProvider(
  useCases: UseCases,
  options: { publicUrl: string; trustProxy: boolean },
): Promise<Provider> {
  const issuer = `${options.publicUrl.replace(/\/$/, '')}${OIDC_MOUNT_PATH}`;
  const secureCookies = issuer.startsWith('https:');
  const cookie = { signed: true, httpOnly: true, sameSite: 'lax', secure: secureCookies } as const;
  // Loaded when a provider is first built, not with the app: the library warns on import about Node 20,
  // which processes that never serve OpenID Connect (the CLI) should not print.
  const { Provider, errors, interactionPolicy } = await import('oidc-provider');
  const policy = interactionPolicy.base();
  policy.get('login')?.checks.push(sessionStillValidCheck(useCases, interactionPolicy));
  const provider = new Provider(issuer, {
    adapter: useCases.oidcAdapterFor((message) => new errors.InvalidGrant(message)),
    jwks: { keys: await useCases.loadSigningKeys() },
    findAccount: async (_ctx: KoaContextWithOIDC, sub: string) => {
      const claims = await useCases.accountClaims(sub);
      return claims && { accountId: sub, claims: async () => claims };
    },
    // How the person signed in (acr, amr, auth_time) goes into every ID token, not only when asked for.
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    // Scope claims in the ID token as well as from userinfo: what Grafana, Gitea and Nextcloud read.
    conformIdTokenClaims: false,
    acrValues: [ACR_ONE_FACTOR, ACR_TWO_FACTORS],
    responseTypes: ['code'],
    pkce: {
      required: (_ctx: unknown, client: { clientAuthMethod: string }) => client.clientAuthMethod === 'none',
    },
    allowOmittingSingleRegisteredRedirectUri: false,
    rotateRefreshToken: true,
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    ttl: OIDC_TOKEN_TTL_SECONDS,
    cookies: {
      keys: [Buffer.from(useCases.cookieKeys.oidcCookieKey).toString('base64url')],
      long: cookie,
      short: cookie,
    },
    interactions: {
      policy,
      url: (_ctx: unknown, interaction: { uid: string }) =>
        `${OIDC_MOUNT_PATH}/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource: logoutPage, postLogoutSuccessSource: signedOutPage },
    },
    // A single-page application may call the token endpoint from the origin of one of its redirect URIs.
    clientBasedCORS: (_ctx: unknown, origin: string, client: { redirectUris?: string[] }) =>
      (client.redirectUris ?? []).some((uri) => new URL(uri).origin === origin),
    renderError: errorPage,
  });
  provider.proxy = options.trustProxy;
  // Only the SHA-256 of a client secret is stored (see service/oidc/clients.ts): compare through it.
  provider.Client.prototype.compareClientSecret = function compareHashed(
    this: { clientSecret?: string },
    actual: string,
  ) {
    return typeof this.clientSecret === 'string' && clientSecretMatches(this.clientSecret, actual);
  };
  return provider;
}
