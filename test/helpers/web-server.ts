import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { createTestEnvironment, type Engine, type TestEnvironment } from './service-deps.js';

export interface RunningWebServer {
  env: TestEnvironment;
  app: FastifyInstance;
  /** http://127.0.0.1:<port> */
  url: string;
  close(): Promise<void>;
}

/** The real server, listening on 127.0.0.1, on a real database, with a real SMTP server for its mail. */
export async function startWebServer(engine: Engine = 'sqlite'): Promise<RunningWebServer> {
  const env = await createTestEnvironment(engine, { notifications: true });
  const app = await buildApp({ deps: env.deps });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    env,
    app,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      await env.close();
    },
  };
}
