import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createExampleApp } from '../../examples/express-app/app.js';
import { totpCode } from '../helpers/rfc6238.js';

describe('the example Express app', () => {
  let server: Server;
  let base: string;
  let example: Awaited<ReturnType<typeof createExampleApp>>;
  beforeAll(async () => {
    example = await createExampleApp({
      database: {
        kind: 'sqlite',
        path: join(mkdtempSync(join(tmpdir(), 'sparekey-example-')), 'example.db'),
      },
      secret: Buffer.alloc(32, 3).toString('base64'),
      kdfProfile: 'minimum',
    });
    server = example.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await example?.sparekey.close();
  });

  const post = async (path: string, body: unknown, token?: string) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: JSON answers are read field by field in the assertions
    return { status: response.status, json: (await response.json()) as Record<string, any> };
  };

  test('a user signs in through the middleware with a recovery code', async () => {
    const { sparekey } = example;
    await sparekey.admin.updateSettings({ enabled: true });
    const credentials = { email: 'shopper@example.test', password: 'velvet-orchard-tide-4' };
    expect((await post('/sparekey/api/v1/auth/sign-up', credentials)).status).toBe(202);
    let session = await post('/sparekey/api/v1/auth/sign-in', credentials);
    const enrollment = await post('/sparekey/api/v1/me/factors/totp', {}, session.json.token);
    const confirmed = await post(
      `/sparekey/api/v1/me/factors/totp/${enrollment.json.factorId}/confirm`,
      { code: totpCode(enrollment.json.secret, { timeMs: Date.now() }) },
      session.json.token,
    );
    const codes = confirmed.json.recoveryCodes.codes as string[];

    session = await post('/sparekey/api/v1/auth/sign-in', credentials);
    expect(session.json.stage).toBe('second_factor');
    const signedIn = await post(
      '/sparekey/api/v1/auth/second-factor/recovery-code',
      { code: codes[4] },
      session.json.token,
    );
    expect(signedIn.status).toBe(200);
    expect(signedIn.json).toMatchObject({ stage: 'signed_in', policy: 'continue', remaining: 9 });

    // The app's own route, through the library.
    const status = await fetch(`${base}/users/shopper@example.test/recovery-codes`);
    expect(await status.json()).toMatchObject({ hasCodes: true, remaining: 9, total: 10 });
    // Other paths are the app's: the middleware passes them on.
    expect(await (await fetch(`${base}/`)).text()).toContain('Example app');
  });
});
