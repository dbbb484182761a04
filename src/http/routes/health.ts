import type { FastifyInstance } from 'fastify';
import type { UseCases } from '../../service/use-cases.js';

/** The JSON endpoints: liveness and readiness for load balancers and orchestrators. */
export function registerHealthRoutes(app: FastifyInstance, useCases: UseCases): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (await useCases.isReady()) return { status: 'ready' };
    reply.code(503);
    return { status: 'unavailable' };
  });
}
