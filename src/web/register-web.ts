import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../core/errors.js';
import { clientErrorCode } from '../http/error-status.js';
import { helmetOptionsFor } from '../http/security-headers.js';
import { RETURN_TO_PAGES, rememberReturnAddress } from './return-to.js';
import { registerAdminRoutes } from './routes/admin-routes.js';
import { registerAuthRoutes } from './routes/auth-routes.js';
import { registerPasswordResetRoutes } from './routes/password-reset-routes.js';
import { registerPasswordRoutes } from './routes/password-routes.js';
import { registerSecondFactorRoutes } from './routes/second-factor-routes.js';
import { registerTwoFactorRoutes } from './routes/two-factor-routes.js';
import { registerUnlockRoutes } from './routes/unlock-routes.js';
import {
  CSRF_COOKIE,
  cookieAttributes,
  csrfBinding,
  redirect,
  sendMessagePage,
  sessionCookieFor,
  statusFor,
} from './web-context.js';
import type { WebOptions } from './web-options.js';

// `/oidc`: the OpenID Connect interactions apply the same rule per application (and per role) themselves.
const MFA_SETUP_PATHS = ['/settings/two-factor', '/sign-out', '/assets', '/lost-access', '/oidc'];

const publicDir = join(import.meta.dirname, '../../public');

export async function registerWeb(app: FastifyInstance, web: WebOptions): Promise<void> {
  await app.register(fastifyHelmet, helmetOptionsFor(web.useCases.options.forwardAuth?.cookieDomain));
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody, { bodyLimit: 16 * 1024 });
  // The pages take submitted forms (and JSON, from their scripts); a text/plain body, which Fastify would
  // read as a string, is refused with 415 unsupported_media_type like any other media type, as the API does.
  app.removeContentTypeParser('text/plain');
  await app.register(fastifyCsrf, {
    cookieKey: CSRF_COOKIE,
    cookieOpts: cookieAttributes,
    // Tokens are bound to the session (HMAC over its id), so a token leaked from one session is useless in another.
    csrfOpts: { hmacKey: Buffer.from(web.useCases.cookieKeys.csrfKey) },
    getUserInfo: (request: FastifyRequest) => csrfBinding(request),
    getToken: (request: FastifyRequest) => (request.body as { _csrf?: unknown } | undefined)?._csrf as string,
  });

  app.decorate('sessionCookie', sessionCookieFor(web.useCases.options.forwardAuth?.cookieDomain));
  app.decorateRequest('auth', undefined);
  app.decorateRequest('sessionToken', undefined);
  // The hooks below run for every route of the site's context (build-server.ts): the pages, the JSON API,
  // the OpenID Connect mount. Forward auth's verdicts live in a context of their own and never run them.
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/assets/')) return;
    const token = request.cookies[app.sessionCookie.name];
    if (!token) return;
    request.sessionToken = token;
    request.auth = await web.useCases.resolveSession(token);
  });

  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'GET' || !RETURN_TO_PAGES.includes(request.url.split('?')[0] ?? '')) return;
    rememberReturnAddress(web.useCases, request, reply);
  });

  // Roles the operator marked "must set up two-factor": until they have, only the two-factor settings
  // (and signing out) are reachable, like Keycloak's CONFIGURE_TOTP required action.
  app.addHook('preHandler', async (request, reply) => {
    const auth = request.auth;
    if (auth?.record.stage !== 'signed_in') return;
    const path = request.url.split('?')[0] ?? '';
    if (MFA_SETUP_PATHS.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) return;
    // The rule itself is the sign-in flow's (service/sign-in/begin-sign-in.ts), the same for the JSON API.
    if (!(await web.useCases.twoFactorSetupOwed(auth.user))) return;
    if (request.method === 'GET') return redirect(reply, '/settings/two-factor?notice=mfa-required');
    return sendMessagePage(request, reply, web.useCases, {
      code: 'mfa_setup_required',
      link: { href: '/settings/two-factor', text: 'Set up two-factor authentication' },
    });
  });

  registerAssets(app);
  registerAuthRoutes(app, web);
  registerSecondFactorRoutes(app, web);
  registerUnlockRoutes(app, web);
  registerPasswordResetRoutes(app, web);
  registerTwoFactorRoutes(app, web);
  registerPasswordRoutes(app, web);
  registerAdminRoutes(app, web);

  const showError = (
    request: FastifyRequest,
    reply: FastifyReply,
    code: ErrorCode,
    status = statusFor(code),
  ) => sendMessagePage(request, reply, web.useCases, { code, status });

  app.setNotFoundHandler((request, reply) => showError(request, reply, 'not_found'));
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET') {
      return showError(request, reply, 'csrf_invalid');
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      request.log.info({ code: error.code }, 'bad request');
      return showError(request, reply, clientErrorCode(status, error.code), status);
    }
    // Never a stack trace in the page: the details go to the log only.
    request.log.error(error);
    return reply
      .code(500)
      .header('cache-control', 'no-store')
      .type('text/plain; charset=utf-8')
      .send('Something went wrong on our side. Try again in a moment.');
  });
}

/**
 * @simplewebauthn/browser's own bundle, served from this origin (the CSP allows only our scripts): it
 * defines `SimpleWebAuthnBrowser`, which public/webauthn.js uses. Read from the installed package, so an
 * upgrade of the package upgrades the script.
 */
const simpleWebAuthnBrowser = join(
  dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')),
  '../dist/bundle/index.umd.min.js',
);

function registerAssets(app: FastifyInstance): void {
  const browserBundle = readFileSync(simpleWebAuthnBrowser);
  app.get('/assets/simplewebauthn-browser.js', async (_request, reply) =>
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(browserBundle),
  );
  const assets = {
    'style.css': 'text/css; charset=utf-8',
    'enhance.js': 'text/javascript; charset=utf-8',
    'favicon.svg': 'image/svg+xml',
    'webauthn.js': 'text/javascript; charset=utf-8',
  } as const;
  for (const [name, type] of Object.entries(assets)) {
    const body = readFileSync(join(publicDir, name));
    const send = async (_request: FastifyRequest, reply: FastifyReply) =>
      reply.type(type).header('cache-control', 'public, max-age=3600').send(body);
    app.get(`/assets/${name}`, send);
    // Browsers ask for /favicon.ico on their own (pages not rendered by the layout, bookmarks): a 404 there
    // is a console error on a first visit. Chromium and Firefox read an SVG whatever the path says.
    if (name === 'favicon.svg') app.get('/favicon.ico', send);
  }
}
