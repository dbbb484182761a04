import type { FastifyInstance } from 'fastify';
import type { ServiceDeps } from '../service/deps.js';

/** The JSON endpoints: liveness and readiness for load balancers and orchestrators. */
export function registerHttpRoutes(app: FastifyInstance, deps: ServiceDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await deps.store.getSetting('recovery_codes');
      return { status: 'ready' };
    } catch {
      reply.code(503);
      return { status: 'unavailable' };
    }
  });
}
