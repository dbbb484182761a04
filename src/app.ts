import Fastify, { type FastifyInstance } from 'fastify';
import { registerOpenApi } from './http/api/openapi.js';
import { registerApi } from './http/api/register-api.js';
import { registerHttpRoutes } from './http/app.js';
import type { ServiceDeps } from './service/deps.js';
import { registerWeb } from './web/register-web.js';

export interface AppOptions {
  deps: ServiceDeps;
  logger?: boolean;
  /** Behind a reverse proxy: client addresses come from X-Forwarded-For. */
  trustProxy?: boolean;
  /** The one-time setup token while no account exists (see main.ts). */
  setupToken?: string;
}

/** Builds the whole application: the JSON endpoints and the pages. It never listens (main.ts does). */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    trustProxy: options.trustProxy ?? false,
    // Recovery codes and OTPs are short; nothing SpareKey accepts needs a large body.
    bodyLimit: 64 * 1024,
  });
  await registerOpenApi(app);
  registerHttpRoutes(app, options.deps);
  await registerApi(app, options.deps);
  await registerWeb(app, { deps: options.deps, setupToken: options.setupToken });
  return app;
}
