import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { buildServer } from './build-server.js';
import { createServiceDeps } from './compose.js';
import { loadConfig } from './config/load-config.js';
import { createFirstAdmin, needsFirstAdmin } from './service/accounts/first-admin.js';
import { describeOpenFailure, type OpenedStore, openStore } from './store/open-store.js';

/**
 * The old generation's next collection comes when it has grown by half over what the last one kept, not
 * by up to four times (V8's own choice for a process it thinks has memory to spare): a server's garbage
 * is short-lived request data promoted by the young generation's collections, so it is collected before
 * it piles up (issue 25: under load, peak RSS -30 MiB at the same CPU per request; docs/deployment.md).
 * Read by V8 at each collection, so it applies when set here: to `npm start`, `sparekey serve` and any
 * other way of running this file, never to a host application that embeds the library.
 */
const HEAP_GROWING_FLAG = '--heap-growing-percent=50';

/** Composition root: config -> store -> services -> HTTP edge. */
async function main(): Promise<void> {
  setFlagsFromString(HEAP_GROWING_FLAG);
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    console.error(`SpareKey cannot start:\n${loaded.problems.map((problem) => `  - ${problem}`).join('\n')}`);
    process.exitCode = 1;
    return;
  }
  const { config } = loaded;
  let opened: OpenedStore;
  try {
    opened = await openStore(config.database);
  } catch (error) {
    console.error(describeOpenFailure(config.database, error));
    process.exitCode = 1;
    return;
  }
  const deps = createServiceDeps(config, opened.store);

  // First start: the administrator comes from the environment, or from a one-time link printed here.
  let setupToken: string | undefined;
  if (await needsFirstAdmin(deps)) {
    if (config.admin) {
      const created = await createFirstAdmin(deps, {
        ...config.admin,
        enableRecoveryCodes: config.recoveryCodesAtSetup,
        context: { ip: null, userAgent: 'startup' },
      });
      if (!created.ok) {
        console.error(
          `SpareKey cannot create the first administrator: ${created.error} (SPAREKEY_ADMIN_EMAIL/PASSWORD)`,
        );
        await opened.close();
        process.exitCode = 1;
        return;
      }
    } else {
      setupToken = randomBytes(32).toString('base64url');
    }
  }

  const app = await buildServer({
    deps,
    logger: { level: config.logLevel },
    trustProxy: config.trustProxy,
    setupToken,
    metricsToken: config.metricsToken,
    webhookWorker: true,
    purgeWorker: true,
    auditSealer: true,
  });
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
    await deps.attemptCounters?.close?.();
    await opened.close();
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await app.listen({ host: config.host, port: config.port });
  const where = config.database.kind === 'sqlite' ? config.database.path : 'PostgreSQL';
  app.log.info(`SpareKey is listening on http://${config.host}:${config.port} (database: ${where})`);
  if (setupToken) {
    // Printed to the console only (never logged to a file sink as structured data): it makes an administrator.
    console.log(
      `\nNo account exists yet. Create the first administrator here (the link works once):\n\n  ${config.publicUrl}/setup?token=${setupToken}\n`,
    );
  }
}

await main();
