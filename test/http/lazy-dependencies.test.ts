import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { registerOidcClient } from '../../src/service/oidc/clients.js';
import { postgresAvailable } from '../helpers/postgres.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { freshDatabase, openLikeTheServers } from '../scale/scale-database.js';

/*
 * Issue 25 (an instance's memory): a started server loads what every deployment uses, and the rest on
 * first use. Structural, not a memory figure: a loader hook (test/helpers/module-load-recorder.mjs) lists
 * the modules the compiled server process loaded, and these tests read which packages are among them.
 */

const RECORDER = fileURLToPath(new URL('../helpers/module-load-recorder.mjs', import.meta.url));
const logDir = mkdtempSync(join(tmpdir(), 'sparekey-modules-'));
let logCount = 0;

/** The packages (by node_modules folder) whose files the process has loaded so far. */
function loadedPackages(log: string): Set<string> {
  const packages = new Set<string>();
  for (const url of readFileSync(log, 'utf8').split('\n')) {
    const match = url.match(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (match?.[1]) packages.add(match[1]);
  }
  return packages;
}

async function startRecorded(env: Record<string, string>): Promise<{ server: ServerProcess; log: string }> {
  const log = join(logDir, `modules-${logCount++}.txt`);
  const server = await startServerProcess({ ...env, SPAREKEY_TEST_MODULE_LOG: log }, 30_000, [
    '--import',
    RECORDER,
  ]);
  return { server, log };
}

/** Loaded only when first used (or configured): none of them by a server that has only started. */
const ON_FIRST_USE = ['oidc-provider', 'nodemailer', '@simplewebauthn/server', 'qrcode', 'ioredis'];

describe('dependencies a deployment may never use are loaded on first use (issue 25)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    rmSync(logDir, { recursive: true, force: true });
  });

  test('a started SQLite server has not loaded pg, the OpenID Connect provider, nodemailer, the WebAuthn library, qrcode or ioredis; the first discovery request loads the provider and is answered', async () => {
    // A relay is configured (mail is offered) and security keys are on: still nothing loaded until used.
    const database = await freshDatabase('sqlite', { SPAREKEY_SMTP_URL: 'smtp://127.0.0.1:9' });
    cleanups.push(database.drop);
    const { server, log } = await startRecorded(database.env);
    cleanups.push(async () => void (await server.stop()));
    expect((await fetch(`${server.url}/sign-in`)).status).toBe(200);
    expect((await fetch(`${server.url}/`)).status).toBe(200);

    const started = loadedPackages(log);
    expect(started.has('better-sqlite3'), 'the recorder sees CommonJS packages').toBe(true);
    expect(started.has('fastify')).toBe(true);
    expect([...started].filter((name) => name === 'pg' || ON_FIRST_USE.includes(name))).toEqual([]);

    // No application is registered: the provider is built by the first request under /oidc, which works.
    const discovery = await fetch(`${server.url}/oidc/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const metadata = (await discovery.json()) as { issuer: string; jwks_uri: string };
    expect(metadata.issuer).toBe(`${server.url}/oidc`);
    const jwks = (await (await fetch(metadata.jwks_uri)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys).toHaveLength(1);
    expect(loadedPackages(log).has('oidc-provider')).toBe(true);
  });

  test.runIf(postgresAvailable())(
    'a started PostgreSQL server has not loaded better-sqlite3; with an application registered it builds the provider at start',
    async () => {
      const database = await freshDatabase('postgres');
      cleanups.push(database.drop);
      // The database is migrated by this first opening; the application exists before the server starts.
      const own = await openLikeTheServers(database.env);
      try {
        const registered = await registerOidcClient(own.deps, {
          name: 'Registered before start',
          redirectUris: ['https://app.example.test/callback'],
          postLogoutRedirectUris: [],
          kind: 'confidential',
          firstParty: true,
          twoFactorRequired: false,
          scopes: ['openid'],
          context: {},
        });
        expect(registered.ok).toBe(true);
      } finally {
        await own.close();
      }
      const { server, log } = await startRecorded(database.env);
      cleanups.push(async () => void (await server.stop()));
      expect((await fetch(`${server.url}/sign-in`)).status).toBe(200);

      const started = loadedPackages(log);
      expect(started.has('pg')).toBe(true);
      expect(started.has('better-sqlite3')).toBe(false);
      expect(started.has('oidc-provider'), 'built at start: an application is registered').toBe(true);
      expect([...started].filter((name) => name !== 'oidc-provider' && ON_FIRST_USE.includes(name))).toEqual(
        [],
      );
    },
  );
});
