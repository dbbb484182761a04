import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadRecoveryCodeSettings } from '../../src/service/admin/settings.js';
import { openStore } from '../../src/store/open-store.js';
import { compiledPath } from '../helpers/compiled-build.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitFor(url: string, child: ChildProcess, timeoutMs = 20_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      return await fetch(url);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} did not answer`);
}

/** `npm start` with zero configuration: SQLite under the data directory, PORT honoured, graceful SIGTERM. */
describe('the server process', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'sparekey-start-')), 'data');
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  test('starts on embedded SQLite with no configuration and answers 200 on /', async () => {
    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      SPAREKEY_DATA_DIR: dataDir,
    };
    child = spawn(process.execPath, [compiledPath('main.js')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout?.on('data', (chunk) => {
      stdout += String(chunk);
    });
    const home = await waitFor(`http://127.0.0.1:${port}/`, child);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('SpareKey');
    // First start with an empty database: a one-time setup link on the console, and it opens the setup page.
    // The server prints it just after it starts listening, so the page can answer before the line arrives.
    const linkIn = (text: string) => text.match(/(http:\/\/\S+\/setup\?token=[A-Za-z0-9_-]+)/)?.[1];
    for (const deadline = Date.now() + 5000; !linkIn(stdout) && Date.now() < deadline; )
      await new Promise((resolve) => setTimeout(resolve, 20));
    const link = linkIn(stdout);
    expect(link, stdout).toBeDefined();
    const setup = await fetch(link as string);
    expect(setup.status).toBe(200);
    expect(await setup.text()).toContain('Create the first administrator');
    expect((await fetch(`http://127.0.0.1:${port}/setup?token=guess`)).status).toBe(403);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    expect(existsSync(join(dataDir, 'sparekey.db'))).toBe(true);
    expect(statSync(join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  test('SPAREKEY_ADMIN_EMAIL/PASSWORD create the first administrator on first start; no setup link is printed', async () => {
    const adminDataDir = join(mkdtempSync(join(tmpdir(), 'sparekey-admin-')), 'data');
    const port = await freePort();
    const admin = spawn(process.execPath, [compiledPath('main.js')], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(port),
        SPAREKEY_DATA_DIR: adminDataDir,
        SPAREKEY_ADMIN_EMAIL: 'owner@example.test',
        SPAREKEY_ADMIN_PASSWORD: 'violet-canyon-ledger-42',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    admin.stdout?.on('data', (chunk) => {
      stdout += String(chunk);
    });
    try {
      expect((await waitFor(`http://127.0.0.1:${port}/sign-in`, admin)).status).toBe(200);
      expect(stdout).not.toContain('/setup?token=');
    } finally {
      const exited = new Promise((resolve) => admin.once('exit', resolve));
      admin.kill('SIGTERM');
      await exited;
    }
    const opened = await openStore({ kind: 'sqlite', path: join(adminDataDir, 'sparekey.db') });
    try {
      const user = await opened.store.findUserByEmail('owner@example.test');
      expect(user?.roles).toEqual(['administrator']);
      expect((await loadRecoveryCodeSettings(opened.store)).enabled).toBe(true);
      expect(user?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    } finally {
      await opened.close();
    }
  });
});
