import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorMessages } from '../../src/core/errors.js';
import type { UseCases } from '../../src/service/use-cases.js';
import { openUseCasesOf, runCliInProcess } from '../helpers/cli-in-process.js';

/**
 * `sparekey user delete` and `sparekey user roles` keep the last administrator: refused with the catalog's
 * `last_administrator` words and exit 1, and nothing changes. With a second administrator either goes.
 */
const env = {
  SPAREKEY_DATA_DIR: join(mkdtempSync(join(tmpdir(), 'sparekey-cli-admin-')), 'data'),
  SPAREKEY_KDF_PROFILE: 'minimum',
};
const cli = (args: string[]) => runCliInProcess(args, env);
const password = 'correct horse battery staple 9';

let useCases: UseCases;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ useCases, close } = await openUseCasesOf(env));
  const created = await useCases.createUser({
    email: 'root@example.test',
    password,
    roles: ['administrator'],
    context: {},
  });
  if (!created.ok) throw new Error(created.error);
});

afterAll(async () => {
  await close?.();
});

describe('CLI: the last administrator', () => {
  test('user delete and user roles refuse the only administrator; with a second one, it may go', async () => {
    const refused = { status: 1, out: '', err: `${errorMessages.last_administrator}\n` };
    expect(await cli(['user', 'delete', 'root@example.test'])).toEqual(refused);
    expect(await cli(['user', 'roles', 'root@example.test', 'editor'])).toEqual(refused);
    expect((await useCases.findUserByEmail('root@example.test'))?.roles).toEqual(['administrator']);
    const [event] = await useCases.listAuditEvents({ action: 'user_deleted', limit: 1 });
    expect(event).toBeUndefined();

    const second = await useCases.createUser({
      email: 'deputy@example.test',
      password,
      roles: ['administrator'],
      context: {},
    });
    expect(second.ok).toBe(true);
    expect(await cli(['user', 'roles', 'root@example.test', 'editor'])).toMatchObject({ status: 0 });
    expect(await cli(['user', 'delete', 'deputy@example.test'])).toEqual(refused);
    expect(await cli(['user', 'roles', 'root@example.test', 'administrator'])).toMatchObject({ status: 0 });
    expect((await cli(['user', 'delete', 'deputy@example.test'])).status).toBe(0);
    expect(await useCases.findUserByEmail('deputy@example.test')).toBeUndefined();
  });
});
