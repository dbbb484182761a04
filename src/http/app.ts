import Fastify, { type FastifyInstance } from 'fastify';
import type { ServiceDeps } from '../service/deps.js';

export interface AppOptions {
  deps: ServiceDeps;
  logger?: boolean;
}

/** Builds the Fastify application. It never listens: server.ts does, and tests use `inject`. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    // Recovery codes and OTPs are short; nothing SpareKey accepts needs a large body.
    bodyLimit: 64 * 1024,
  });
  app.get('/', async (_request, reply) => {
    reply.type('text/html; charset=utf-8');
    return '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SpareKey</title></head><body><h1>SpareKey</h1><p>SpareKey is running.</p></body></html>\n';
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await options.deps.store.getSetting('recovery_codes');
      return { status: 'ready' };
    } catch {
      reply.code(503);
      return { status: 'unavailable' };
    }
  });
  return app;
}
