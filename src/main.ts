import { createServiceDeps } from './compose.js';
import { loadConfig } from './config/load-config.js';
import { buildApp } from './http/app.js';
import { openStore } from './store/open-store.js';

/** Composition root: config -> store -> services -> HTTP edge. */
async function main(): Promise<void> {
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    console.error(`SpareKey cannot start:\n${loaded.problems.map((problem) => `  - ${problem}`).join('\n')}`);
    process.exitCode = 1;
    return;
  }
  const { config } = loaded;
  const opened = await openStore(config.database);
  const app = await buildApp({ deps: createServiceDeps(config, opened.store), logger: true });
  if (config.serverSecretSource === 'generated') {
    app.log.warn(
      `Generated a server secret in ${config.dataDir}: back it up; codes cannot be verified without it.`,
    );
  }
  if (config.kdfProfile === 'minimum') {
    app.log.warn(
      'SPAREKEY_KDF_PROFILE=minimum: recovery codes are hashed at benchmark cost. Never use it in production.',
    );
  }
  const shutdown = async (signal: string) => {
    app.log.info(`${signal} received: finishing in-flight requests`);
    await app.close();
    await opened.close();
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await app.listen({ host: config.host, port: config.port });
  const where = config.database.kind === 'sqlite' ? config.database.path : 'PostgreSQL';
  app.log.info(`SpareKey is listening on http://${config.host}:${config.port} (database: ${where})`);
}

await main();
