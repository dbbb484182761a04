import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Provider } from 'oidc-provider';
import type { UseCases } from '../service/use-cases.js';
import { SESSION_COOKIE } from '../web/web-context.js';
import { registerInteractionRoutes } from './interaction-routes.js';
import { OIDC_MOUNT_PATH } from './provider.js';
import { providerHolder } from './provider-holder.js';

/**
 * The provider's endpoints under the mount (oidc-provider's default routes for the features enabled in
 * provider.ts). Anything else under /oidc is SpareKey's own not-found page, never the provider's plain-text 404.
 */
const PROVIDER_PATHS = new Set([
  '/.well-known/openid-configuration',
  '/jwks',
  '/auth',
  '/token',
  '/me',
  '/token/revocation',
  '/session/end',
  '/session/end/confirm',
  '/session/end/success',
]);
const RESUMED_AUTHORIZATION = /^\/auth\/[A-Za-z0-9_-]{1,64}$/;

function isProviderPath(relativePath: string): boolean {
  return PROVIDER_PATHS.has(relativePath) || RESUMED_AUTHORIZATION.test(relativePath);
}

const PROVIDER_PAGES_CSP =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

export interface OidcOptions {
  useCases: UseCases;
  trustProxy: boolean;
  /** How often to look for rotated signing keys (tests shorten it). */
  keyCheckIntervalMs?: number;
}

/**
 * Mounts oidc-provider (a Koa application) under /oidc, as its documentation describes for other
 * frameworks: the raw Node request and response are handed over, with the body as bytes (the provider
 * parses it; see below); its paths are given relative to the mount
 * (`originalUrl` keeps the full one, from which it builds its own URLs). The interaction pages are
 * SpareKey routes (interaction-routes.ts).
 */
export async function registerOidc(app: FastifyInstance, options: OidcOptions): Promise<void> {
  const { useCases } = options;
  const holder = providerHolder(useCases, {
    trustProxy: options.trustProxy,
    keyCheckIntervalMs: options.keyCheckIntervalMs,
    onBuilt: (provider) => endSpareKeySessionOnLogout(app, useCases, provider),
  });

  // Built at start (and on a first start the signing key generated) when applications are registered, so
  // their first request finds it ready. Without any, oidc-provider (with jose and koa, several MiB of the
  // process's memory) is loaded only by the first request under /oidc, which then waits for it once.
  app.addHook('onReady', async () => {
    if ((await useCases.listOidcClients()).length > 0) await holder.current();
  });

  await app.register(async (scope) => {
    // Bodies are read here as bytes, under the app's 64 KB limit (413 beyond it), and handed to the
    // provider unparsed: it parses form and JSON bodies itself from `req.body`.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    const handle = async (request: FastifyRequest, reply: FastifyReply) => {
      const relativePath = (request.raw.url ?? '').split('?')[0]?.slice(OIDC_MOUNT_PATH.length) ?? '';
      if (!isProviderPath(relativePath)) return reply.callNotFound();
      const provider = await holder.current();
      if (!provider) return reply.code(404).send({ error: { code: 'not_found', message: 'No issuer' } });
      const raw = request.raw as typeof request.raw & { originalUrl?: string; body?: unknown };
      if (Buffer.isBuffer(request.body)) raw.body = request.body;
      raw.originalUrl = raw.url;
      raw.url = raw.url?.slice(OIDC_MOUNT_PATH.length) || '/';
      if (!raw.url.startsWith('/')) raw.url = `/${raw.url}`;
      reply.hijack();
      // The provider's own pages (logout confirmation, errors) post only to itself, but the logout
      // confirmation then redirects to the application: the pages' form-action 'self' would block that
      // in Chromium. The rest of the policy stays: nothing from elsewhere, no framing.
      reply.raw.setHeader('content-security-policy', PROVIDER_PAGES_CSP);
      provider.callback()(raw, reply.raw);
    };
    // The methods the provider's endpoints answer (OPTIONS: CORS preflight of the token endpoint).
    const methods = ['GET', 'POST', 'OPTIONS'];
    scope.route({ method: methods, url: OIDC_MOUNT_PATH, handler: handle });
    scope.route({ method: methods, url: `${OIDC_MOUNT_PATH}/*`, handler: handle });
  });

  registerInteractionRoutes(app, { useCases, provider: () => holder.current() });
}

/** RP-initiated logout ends the SpareKey sign-in of that browser too, not only the provider's memory of it. */
function endSpareKeySessionOnLogout(app: FastifyInstance, useCases: UseCases, provider: Provider): void {
  provider.on('end_session.success', (...args: unknown[]) => {
    const ctx = args[0] as { cookies: { get(name: string): string | undefined }; ip?: string };
    const token = ctx.cookies.get(SESSION_COOKIE);
    if (!token) return;
    useCases
      .endSession({ token, context: { ip: ctx.ip ?? null, userAgent: null } })
      .catch((error: unknown) =>
        app.log.error({ err: error }, 'ending the SpareKey session after an application sign-out failed'),
      );
  });
}
