import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import Fastify, { type FastifyHttpOptions, type FastifyInstance } from 'fastify';
import { registerJsonBodyParser } from './http/json-body.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { registerOpenApi } from './http/plugins/openapi.js';
import { registerApi } from './http/plugins/register-api.js';
import { requestId } from './http/request-id.js';
import { requestValidation } from './http/request-validation.js';
import { createVerdictEdge, FORWARD_AUTH_PATHS, type VerdictEdge } from './http/routes/forward-auth.js';
import { registerHealthRoutes } from './http/routes/health.js';
import { securityHeaders } from './http/security-headers.js';
import { makeRequestSchemasStrict } from './http/strict-schemas.js';
import { MAX_PATH_PARAMETER_LENGTH } from './http/user-addressing.js';
import { registerOidc } from './oidc/register-oidc.js';
import { startAuditSealerFor } from './service/audit/audit-sealer.js';
import type { ServiceDeps } from './service/deps.js';
import { startPurgeWorker } from './service/maintenance/purge.js';
import { createUseCases, type UseCases } from './service/use-cases.js';
import { startWebhookWorker } from './service/webhooks/webhooks.js';
import { clientErrorHandler, frameworkErrorHandler } from './web/framework-errors.js';
import { registerWeb } from './web/register-web.js';
import { sessionCookieFor } from './web/web-context.js';

export interface ServerOptions {
  deps: ServiceDeps;
  /** JSON logs (pino): true for standard output, or a level and a stream (tests read the stream). */
  logger?: boolean | { level?: string; stream?: NodeJS.WritableStream };
  /** Behind a reverse proxy: client addresses come from X-Forwarded-For. */
  trustProxy?: boolean;
  /** The one-time setup token while no account exists (see main.ts). */
  setupToken?: string;
  /** Bearer token for GET /metrics; without one only loopback clients may scrape. */
  metricsToken?: string | null;
  /**
   * Send security webhooks from this process (the server does; tests drive deliveries themselves). Every
   * process may run one: claims keep them from sending one delivery twice at once.
   */
  webhookWorker?: boolean;
  /** Purge expired rows hourly from this process (the server does; any number of processes may). */
  purgeWorker?: boolean;
  /**
   * Run this process's audit sealer (the server does): one process at a time holds the sealer lease and
   * links committed audit events into the hash chain; the others stand by to take over (decision 0005).
   */
  auditSealer?: boolean;
  /** How often the OpenID Connect provider looks for rotated signing keys (default 30 s). */
  oidcKeyCheckIntervalMs?: number;
  /** Called once per route as it is registered (HEAD twins of GET routes left out). */
  onRoute?: (route: { method: string; url: string }) => void;
  /** Like onRoute, with the route's schema as it is validated (after strict-schemas.ts); for audits. */
  onRouteSchema?: (route: { method: string; url: string; schema: unknown }) => void;
}

/**
 * What a request log line holds: no query string (setup and unlock links carry tokens there), no headers
 * (cookies, API keys) and no body (passwords, codes). Paths hold ids, never secrets.
 */
const logSerializers = {
  req: (request: { method: string; url: string; ip?: string }) => ({
    method: request.method,
    path: request.url.split('?')[0],
    ip: request.ip,
  }),
};

function loggerOptions(logger: ServerOptions['logger']) {
  if (!logger) return false;
  const { level = 'info', stream } = logger === true ? {} : logger;
  return { level, serializers: logSerializers, ...(stream ? { stream } : {}) };
}

/** Builds the whole application: the JSON endpoints and the pages. It never listens (main.ts does). */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const headers = await securityHeaders(options.deps.options.forwardAuth?.cookieDomain);
  const metrics = createMetrics();
  // The use cases report to this app's registry unless the caller wired metrics of its own.
  options.deps.metrics ??= metrics.serviceMetrics;
  // With a setup link outstanding, public sign-up waits for it on every edge (service/accounts/sign-up.ts).
  const deps = options.setupToken
    ? { ...options.deps, options: { ...options.deps.options, firstAdminSetupLink: true } }
    : options.deps;
  // The one object every edge gets: use cases bound to these dependencies, never the store.
  const useCases = createUseCases(deps);
  // Forward auth's verdicts, asked for every request a proxy serves: the HTTP server answers them before
  // Fastify does anything (see createVerdictEdge), and Fastify's own routes for them give the same answer.
  const verdicts = createVerdictEdge(useCases, {
    securityHeaders: headers,
    sessionCookieName: sessionCookieFor(options.deps.options.forwardAuth?.cookieDomain).name,
    trustProxy: options.trustProxy ?? false,
    countRequest: metrics.countVerdictRequest,
  });
  let app: FastifyInstance | undefined;
  const log = () => (app as FastifyInstance).log;
  app = Fastify({
    logger: loggerOptions(options.logger),
    trustProxy: options.trustProxy ?? false,
    genReqId: requestId,
    // Recovery codes and OTPs are short; nothing SpareKey accepts needs a large body.
    bodyLimit: 64 * 1024,
    // A host's id may be 255 characters (Fastify's default stops path parameters at 100 with a 414);
    // every path parameter's schema bounds it further.
    routerOptions: { maxParamLength: MAX_PATH_PARAMETER_LENGTH },
    // Bodies are not coerced and nothing is silently dropped: see request-validation.ts.
    schemaController: requestValidation(),
    // Answers made before routing: the error shape and the security headers all the same.
    frameworkErrors: frameworkErrorHandler(useCases, headers),
    clientErrorHandler: clientErrorHandler(headers),
    serverFactory: verdictsFirst(verdicts, log),
  });
  // Every request schema refuses unknown fields (strict-schemas.ts); JSON bodies have a depth limit.
  app.addHook('onRoute', makeRequestSchemasStrict);
  registerJsonBodyParser(app);
  // Every route as registered (method and URL template): the authorization-matrix and fuzz tests check
  // that no route escapes them, and tooling can list what the server answers.
  const { onRoute, onRouteSchema } = options;
  if (onRoute || onRouteSchema) {
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        if (method === 'HEAD') continue;
        onRoute?.({ method, url: route.url });
        onRouteSchema?.({ method, url: route.url, schema: route.schema });
      }
    });
  }
  // A callback, not an async function: every request runs it, forward auth's verdicts included.
  app.addHook('onSend', function sendRequestId(request, reply, _payload, done) {
    reply.header('x-request-id', request.id);
    done();
  });
  // The verdicts count themselves (createVerdictEdge), however they arrive.
  metrics.countRequests(app, { except: Object.values(FORWARD_AUTH_PATHS) });
  // Fastify's routes for the verdicts, in a context of their own beside the site's: none of the pages'
  // plugins and hooks apply to them.
  await app.register(async (context) => verdicts.register(context));
  const site = await registerSite(app, { ...options, useCases, metrics });
  // What callers read from the app (tests, tooling), though it is decorated in the site's context.
  app.decorate('sessionCookie', site.sessionCookie);
  app.decorate('apiRoutes', site.apiRoutes);
  if (options.webhookWorker) {
    const stop = startWebhookWorker(deps, {
      onError: (error) => app.log.error({ err: error }, 'webhook delivery round failed'),
    });
    app.addHook('onClose', stop);
  }
  if (options.auditSealer) {
    const stop = startAuditSealerFor(deps, {
      onError: (error) => app.log.error({ err: error }, 'audit sealing round failed'),
    });
    app.addHook('onClose', stop);
  }
  if (options.purgeWorker) {
    const stop = startPurgeWorker(deps, {
      onPurged: (purged) => app.log.info({ purged }, 'purged expired records'),
      onError: (error) => app.log.error({ err: error }, 'purge of expired records failed'),
    });
    app.addHook('onClose', stop);
  }
  return app;
}

/**
 * Fastify's HTTP server, as Fastify itself would make it (its timeouts included), whose requests go to the
 * verdict edge first: a verdict request is answered there, anything else goes on to Fastify.
 */
function verdictsFirst(verdicts: VerdictEdge, log: () => FastifyInstance['log']) {
  return (fastify: RequestListener, options: FastifyHttpOptions<ReturnType<typeof createServer>>) => {
    const server = createServer(options.http ?? {}, (request: IncomingMessage, response: ServerResponse) => {
      if (!verdicts.answerDirect(request, response, log())) fastify(request, response);
    });
    server.keepAliveTimeout = options.keepAliveTimeout ?? server.keepAliveTimeout;
    server.requestTimeout = options.requestTimeout ?? server.requestTimeout;
    server.setTimeout(options.connectionTimeout ?? 0);
    if ((options.maxRequestsPerSocket ?? 0) > 0)
      server.maxRequestsPerSocket = options.maxRequestsPerSocket ?? 0;
    return server;
  };
}

/**
 * The site: everything people, browsers and applications call besides the verdicts (the pages, the JSON
 * API, OpenID Connect, health, /metrics, the OpenAPI document), in one encapsulated context with the
 * pages' plugins and hooks (helmet, cookies, form bodies, CSRF, the session hook) and their not-found and
 * error handlers, as every one of these routes had them when they were registered at the root.
 */
async function registerSite(
  app: FastifyInstance,
  options: ServerOptions & { useCases: UseCases; metrics: Metrics },
): Promise<Pick<FastifyInstance, 'sessionCookie' | 'apiRoutes'>> {
  const { useCases } = options;
  let site: FastifyInstance | undefined;
  await app.register(async (instance) => {
    site = instance;
    options.metrics.registerEndpoint(instance, { token: options.metricsToken ?? null });
    await registerOpenApi(instance);
    registerHealthRoutes(instance, useCases);
    await registerApi(instance, useCases);
    await registerWeb(instance, { useCases, setupToken: options.setupToken });
    // After the pages: the interactions use their cookies, CSRF protection and form parsing.
    await registerOidc(instance, {
      useCases,
      trustProxy: options.trustProxy ?? false,
      keyCheckIntervalMs: options.oidcKeyCheckIntervalMs,
    });
  });
  if (!site) throw new Error('the site context was not registered');
  // Not the instance itself: a Fastify instance is a thenable, which an async function's return would await.
  return { sessionCookie: site.sessionCookie, apiRoutes: site.apiRoutes };
}
