import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import Fastify from 'fastify';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { createSpareKey } from '../../src/index.js';
import { EMBEDDED_POSTGRES_SCHEMA } from '../../src/library.js';
import { postgresAvailable, testDatabaseUrl } from '../helpers/postgres.js';

const secret = Buffer.alloc(32, 4).toString('base64');
const sqlite = () => ({
  kind: 'sqlite' as const,
  path: join(mkdtempSync(join(tmpdir(), 'sparekey-embed-')), 'e.db'),
});

describe('embedding SpareKey in a host application', () => {
  test('the Fastify plugin is headless by default: the backend routes, no sign-up, no end-user routes, no pages', async () => {
    const sparekey = await createSpareKey({ database: sqlite(), secret, kdfProfile: 'minimum' });
    const host = Fastify();
    await host.register(sparekey.fastifyPlugin, { prefix: '/mfa' });
    try {
      for (const url of ['/mfa/api/v1/auth/sign-up', '/mfa/api/v1/auth/sign-in'])
        expect(
          (await host.inject({ method: 'POST', url, payload: { email: 'a@example.test', password: 'x' } }))
            .statusCode,
        ).toBe(404);
      expect((await host.inject({ url: '/mfa/sign-in' })).statusCode).toBe(404);
      expect((await host.inject({ url: '/mfa/api/v1/me/mfa' })).statusCode).toBe(404);
      const backend = await host.inject({ method: 'PUT', url: '/mfa/api/v1/external-users/7', payload: {} });
      expect(backend.json()).toMatchObject({ error: { code: 'api_key_required' } });
    } finally {
      await host.close();
      await sparekey.close();
    }
  });

  test('the Fastify plugin warns once, in the host log, when the host router cuts host ids short (default 100 characters); not when it allows them', async () => {
    const sparekey = await createSpareKey({ database: sqlite(), secret, kdfProfile: 'minimum' });
    const warnings = async (options: { routerOptions?: { maxParamLength: number } }) => {
      const lines: string[] = [];
      const stream = { write: (line: string) => void lines.push(line) };
      const host = Fastify({ ...options, logger: { level: 'warn', stream } });
      await host.register(sparekey.fastifyPlugin, { prefix: '/mfa' });
      await host.ready();
      await host.close();
      return lines.map((line) => JSON.parse(line).msg as string);
    };
    try {
      const short = await warnings({});
      expect(short).toHaveLength(1);
      expect(short[0]).toMatch(/414 for a path value over 100 characters.*maxParamLength: 1024/);
      expect(await warnings({ routerOptions: { maxParamLength: 1024 } })).toEqual([]);
    } finally {
      await sparekey.close();
    }
  });

  test('Express: mounted after express.json(), the middleware uses the body the host parsed (it used to hang)', async () => {
    const sparekey = await createSpareKey({ database: sqlite(), secret, kdfProfile: 'minimum' });
    const app = express();
    app.use(express.json());
    app.use('/sparekey', await sparekey.middleware());
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sparekey/api/v1`;
    try {
      const created = await sparekey.admin.createApiKey({ name: 'backend', scopes: ['mfa:write'] });
      if (!created.ok) throw new Error(created.error);
      const key = created.value.key;
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      const ensured = await fetch(`${base}/external-users/host-9`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ email: 'host9@example.test' }),
        signal: AbortSignal.timeout(5_000),
      });
      expect(ensured.status).toBe(201);
      expect(await ensured.json()).toMatchObject({ externalId: 'host-9', email: 'host9@example.test' });
      // A field the schema refuses is still refused when the host parsed it.
      const refused = await fetch(`${base}/external-users/host-9`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ email: null, userId: 'someone' }),
        signal: AbortSignal.timeout(5_000),
      });
      expect(refused.status).toBe(400);
      // A host id of 255 characters gets through the middleware's router (Fastify's default limit is 100);
      // one of 256 is invalid_external_id, as in the library.
      for (const [length, status] of [
        [255, 201],
        [256, 400],
      ] as const) {
        const answer = await fetch(`${base}/external-users/${'7'.repeat(length)}`, {
          method: 'PUT',
          headers,
          body: '{}',
          signal: AbortSignal.timeout(5_000),
        });
        expect(answer.status, `${length} characters`).toBe(status);
        if (status === 400)
          expect(((await answer.json()) as { error: { code: string } }).error.code).toBe(
            'invalid_external_id',
          );
      }
      // The end-user routes are not there unless asked for.
      const signUp = await fetch(`${base}/auth/sign-up`, { method: 'POST', headers, body: '{}' });
      expect(signUp.status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await sparekey.close();
    }
  });

  test.skipIf(!postgresAvailable())(
    "on the host's PostgreSQL database the tables and the migration bookkeeping live in the sparekey schema, never in public",
    async () => {
      // A database of its own, so `public` is known to be empty before and can be checked after.
      const admin = new pg.Client({ connectionString: testDatabaseUrl });
      await admin.connect();
      const name = `sparekey_embed_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      await admin.query(`create database ${name}`);
      const url = new URL(testDatabaseUrl);
      url.pathname = `/${name}`;
      try {
        const host = new pg.Client({ connectionString: url.toString() });
        await host.connect();
        // The host's own users table, as the issue found it: SpareKey must not collide with it.
        await host.query('create table public.users (id serial primary key, name text)');
        const sparekey = await createSpareKey({
          database: { kind: 'postgres', url: url.toString() },
          secret,
          kdfProfile: 'minimum',
        });
        expect((await sparekey.users.ensure({ externalId: '1' })).ok).toBe(true);
        await sparekey.close();
        const tables = await host.query<{ table_schema: string; table_name: string }>(
          "select table_schema, table_name from information_schema.tables where table_schema in ('public', $1)",
          [EMBEDDED_POSTGRES_SCHEMA],
        );
        const inPublic = tables.rows
          .filter((row) => row.table_schema === 'public')
          .map((row) => row.table_name);
        const inOwn = tables.rows
          .filter((row) => row.table_schema === 'sparekey')
          .map((row) => row.table_name);
        expect(inPublic).toEqual(['users']);
        expect(inOwn).toEqual(
          expect.arrayContaining(['users', 'mfa_factors', 'kysely_migration', 'kysely_migration_lock']),
        );
        await host.end();
      } finally {
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.end();
      }
    },
    60_000,
  );
});
