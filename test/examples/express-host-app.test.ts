import { mkdtempSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHostApp } from '../../examples/express-host-app/app.js';
import { totpCode } from '../helpers/rfc6238.js';

/**
 * Issue 21.4: an Express app with its own users table and sessions adds TOTP and recovery codes by its own
 * ids. The SpareKey glue is examples/express-host-app/two-factor.ts; its lines (not blank, not comments)
 * are counted here and must stay under the ~40 of a hand-rolled otplib integration.
 */
const glue = readFileSync(join(import.meta.dirname, '../../examples/express-host-app/two-factor.ts'), 'utf8');
const glueLines = glue.split('\n').filter((line) => !/^\s*$|^\s*\/\/|^\s*\/?\*/.test(line)).length;

describe('the example host app (its own users and sessions)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sparekey-host-app-'));
  let server: Server;
  let base: string;
  let host: Awaited<ReturnType<typeof createHostApp>>;
  beforeAll(async () => {
    host = await createHostApp({
      database: join(dir, 'host.db'),
      sparekey: {
        database: { kind: 'sqlite', path: join(dir, 'sparekey.db') },
        secret: Buffer.alloc(32, 5).toString('base64'),
        kdfProfile: 'minimum',
      },
    });
    server = host.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await host?.close();
  });

  /** A browser of the host app: its own session cookie, JSON in and out, never waiting forever. */
  function browser() {
    let cookie = '';
    return async (path: string, body: object = {}) => {
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      cookie = /sid=[\w-]+/.exec(response.headers.get('set-cookie') ?? '')?.[0] ?? cookie;
      const text = await response.text();
      const isJson = response.headers.get('content-type')?.includes('json');
      return {
        status: response.status,
        headers: response.headers,
        // biome-ignore lint/suspicious/noExplicitAny: JSON answers are read field by field in the assertions
        json: (isJson ? JSON.parse(text) : { text }) as any,
      };
    };
  }

  test(`the glue is ${glueLines} lines (fewer than 40)`, () => {
    expect(glueLines).toBeLessThan(40);
    expect(glue).not.toMatch(/otplib|otpauth|node:crypto/);
  });

  test('sign-in by its own password, enrollment with an independent TOTP, recovery-code sign-in once', async () => {
    const credentials = { email: 'pat@example.test', password: 'a password the host checks itself' };
    const alice = browser();
    const { json: created } = await alice('/sign-up', credentials);
    expect((await alice('/sign-in', credentials)).json).toEqual({ secondFactor: false });

    // Enrollment in the app's signed-in session; the code comes from test/helpers/rfc6238.ts (RFC 6238).
    expect((await browser()('/2fa/totp')).status).toBe(401);
    const enrolled = await alice('/2fa/totp', { userId: 'someone-else' });
    expect(enrolled.status).toBe(200);
    expect(enrolled.headers.get('cache-control')).toBe('no-store');
    expect(enrolled.json.uri).toContain(`:${created.id}?`);
    const confirmed = await alice('/2fa/totp/confirm', {
      factorId: enrolled.json.factorId,
      code: totpCode(enrolled.json.secret, { timeMs: Date.now() }),
    });
    expect(confirmed.json).toMatchObject({ mfaEnabled: true });
    const codes = confirmed.json.recoveryCodes.codes as string[];
    expect(codes).toHaveLength(10);

    // Next sign-in: the password alone is not enough; a recovery code completes it, once.
    const lost = browser();
    expect((await lost('/sign-in', credentials)).json).toEqual({ secondFactor: true });
    expect((await lost('/2fa/recovery-code', { code: 'not-a-code' })).status).toBe(400);
    const recovered = await lost('/2fa/recovery-code', { code: codes[3] });
    expect(recovered.json).toMatchObject({ policy: 'continue', remaining: 9 });
    expect((await fetch(`${base}/account`, { headers: { cookie: '' } })).status).toBe(401);

    const again = browser();
    await again('/sign-in', credentials);
    const reused = await again('/2fa/recovery-code', { code: codes[3] });
    expect(reused).toMatchObject({ status: 400, json: { error: 'code_already_used' } });
    // The authenticator still signs in (the next time step: the confirming one was spent).
    const totp = await again('/2fa/verify', {
      code: totpCode(enrolled.json.secret, { timeMs: Date.now() + 30_000 }),
    });
    expect(totp.status).toBe(200);
  });

  test('the JSON API mounted after express.json() answers a parsed body (no hang), by the host id', async () => {
    const created = await host.sparekey.admin.createApiKey({ name: 'other backend', scopes: ['mfa:read'] });
    if (!created.ok) throw new Error(created.error);
    const headers = { authorization: `Bearer ${created.value.key}`, 'content-type': 'application/json' };
    const status = await fetch(`${base}/sparekey/api/v1/external-users/1/mfa`, {
      headers,
      signal: AbortSignal.timeout(5_000),
    });
    expect(await status.json()).toMatchObject({ mfaEnabled: true });
    const refused = await fetch(`${base}/sparekey/api/v1/external-users/1/recovery-codes/verify`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ code: 'x' }),
      signal: AbortSignal.timeout(5_000),
    });
    expect(refused.status).toBe(403);
  });
});
