import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createSpareKey } from '../../src/index.js';
import { testEngines } from '../helpers/engines.js';
import { testDatabaseUrl, uniqueSchemaName } from '../helpers/postgres.js';

const secret = Buffer.alloc(32, 9).toString('base64');

/** The library's users.delete and users.assignRoles keep the last administrator, like the CLI and the API. */
describe.each(testEngines())('library: the last administrator on %s', (engine) => {
  test('users.delete and users.assignRoles refuse the only administrator (last_administrator); a second one may go', async () => {
    const database =
      engine === 'sqlite'
        ? ({
            kind: 'sqlite',
            path: join(mkdtempSync(join(tmpdir(), 'sparekey-lib-admin-')), 'a.db'),
          } as const)
        : ({ kind: 'postgres', url: testDatabaseUrl, schema: uniqueSchemaName('lib_admin') } as const);
    const sparekey = await createSpareKey({ database, secret, issuer: 'Example', kdfProfile: 'minimum' });
    try {
      const password = 'correct horse battery staple 9';
      const first = await sparekey.users.create({
        email: 'one@example.test',
        password,
        roles: ['administrator'],
      });
      if (!first.ok) throw new Error(first.error);
      const userId = first.value.userId;
      expect(await sparekey.users.delete({ userId })).toEqual({ ok: false, error: 'last_administrator' });
      expect(await sparekey.users.assignRoles({ userId, roles: ['editor'] })).toEqual({
        ok: false,
        error: 'last_administrator',
      });
      expect((await sparekey.users.findById(userId))?.roles).toEqual(['administrator']);
      // A host application's users, none of them administrators, are deleted as before.
      const host = await sparekey.users.ensure({ externalId: 'host-1' });
      expect(host.ok).toBe(true);
      expect(await sparekey.users.delete({ externalId: 'host-1' })).toMatchObject({ ok: true });

      const second = await sparekey.users.create({
        email: 'two@example.test',
        password,
        roles: ['administrator'],
      });
      if (!second.ok) throw new Error(second.error);
      expect(await sparekey.users.assignRoles({ userId, roles: ['editor'] })).toEqual({
        ok: true,
        value: { roles: ['editor'] },
      });
      expect(await sparekey.users.delete({ userId: second.value.userId })).toEqual({
        ok: false,
        error: 'last_administrator',
      });
      expect(await sparekey.users.delete({ userId })).toMatchObject({ ok: true });
    } finally {
      await sparekey.close();
    }
  });
});
