import type { FastifyInstance } from 'fastify';
import type { ServiceDeps } from '../service/deps.js';
import { isReady } from '../service/maintenance/readiness.js';

/** The JSON endpoints: liveness and readiness for load balancers and orchestrators. */
export function registerHealthRoutes(app: FastifyInstance, deps: ServiceDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (await isReady(deps)) return { status: 'ready' };
    reply.code(503);
    return { status: 'unavailable' };
  });
}
