import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { givenUser } from '../../src/store/contract/fixtures.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { testEngines } from '../helpers/engines.js';
import { testDatabaseUrl, uniqueSchemaName } from '../helpers/postgres.js';

/**
 * The store refuses to delete the only administrator, or to take the role from them (`last_administrator`),
 * whichever edge asks (CLI, JSON API, library, pages); and two removals at once never leave none
 * (ASVS 4.0.3 2.3.4: business-logic locking, here on the set of administrators). Each engine gets a
 * database of its own, so "the only administrator" means what it says.
 */
describe.each(testEngines())('the last administrator on %s', (engine) => {
  let opened: OpenedStore;
  const dir = mkdtempSync(join(tmpdir(), 'sparekey-last-admin-'));
  const schema = uniqueSchemaName('last_admin');

  beforeAll(async () => {
    opened = await openStore(
      engine === 'sqlite'
        ? { kind: 'sqlite', path: join(dir, 'sparekey.db') }
        : { kind: 'postgres', url: testDatabaseUrl, schema, poolSize: 8 },
    );
  });
  afterAll(async () => {
    try {
      if (engine === 'postgres') await sql`drop schema ${sql.id(schema)} cascade`.execute(opened.db);
    } finally {
      await opened?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const administrators = async () => {
    const rows = await sql<{ user_id: string }>`select user_id from user_roles
      where role = 'administrator' order by user_id`.execute(opened.db);
    return rows.rows.map((row) => row.user_id);
  };
  /** Leaves `keep` as the only administrators (demoting through the database, not the guarded write). */
  const onlyAdministrators = async (...keep: string[]) => {
    await sql`delete from user_roles where role = 'administrator'`.execute(opened.db);
    for (const id of keep)
      await sql`insert into user_roles (user_id, role) values (${id}, 'administrator')`.execute(opened.db);
  };

  test('the only administrator is neither deleted nor demoted; with a second one, either may go', async () => {
    const { store } = opened;
    const first = await givenUser(store, { roles: ['administrator', 'editor'] });
    await onlyAdministrators(first.id);
    expect(await store.deleteUser(first.id)).toEqual({ deleted: false, reason: 'last_administrator' });
    expect(await store.setUserRoles(first.id, ['editor'])).toEqual({
      updated: false,
      reason: 'last_administrator',
    });
    expect(await store.setUserRoles(first.id, [])).toEqual({ updated: false, reason: 'last_administrator' });
    expect((await store.findUserById(first.id))?.roles).toEqual(['administrator', 'editor']);
    // Keeping the role while changing the others is no removal.
    expect(await store.setUserRoles(first.id, ['administrator'])).toEqual({ updated: true });
    // Anyone else comes and goes as before.
    const other = await givenUser(store, { roles: ['subscriber'] });
    expect(await store.setUserRoles(other.id, ['editor'])).toEqual({ updated: true });
    expect(await store.deleteUser(other.id)).toMatchObject({ deleted: true });
    expect(await store.deleteUser(other.id)).toEqual({ deleted: false, reason: 'user_not_found' });
    expect(await store.setUserRoles(other.id, ['editor'])).toEqual({
      updated: false,
      reason: 'user_not_found',
    });

    const second = await givenUser(store, { roles: ['administrator'] });
    expect(await store.setUserRoles(first.id, ['editor'])).toEqual({ updated: true });
    expect(await administrators()).toEqual([second.id]);
    expect(await store.deleteUser(second.id)).toEqual({ deleted: false, reason: 'last_administrator' });
    expect(await store.setUserRoles(first.id, ['administrator'])).toEqual({ updated: true });
    expect(await store.deleteUser(second.id)).toMatchObject({ deleted: true });
    expect(await administrators()).toEqual([first.id]);
  });

  test('a site with no administrator (a host application’s library) deletes its users as before', async () => {
    const { store } = opened;
    await onlyAdministrators();
    const user = await givenUser(store, { roles: ['subscriber'] });
    expect(await store.deleteUser(user.id)).toMatchObject({ deleted: true });
  });

  test('two administrators removed at once, 20 times over, by deletion or demotion: one always stays', async () => {
    const { store } = opened;
    const removals = [
      (id: string) => store.deleteUser(id),
      (id: string) => store.setUserRoles(id, ['editor']),
    ];
    for (let round = 0; round < 20; round++) {
      const a = await givenUser(store, { roles: ['administrator'] });
      const b = await givenUser(store, { roles: ['administrator'] });
      await onlyAdministrators(a.id, b.id);
      const removeA = removals[round % 2] as (id: string) => Promise<object>;
      const removeB = removals[Math.floor(round / 2) % 2] as (id: string) => Promise<object>;
      const outcomes = await Promise.all([removeA(a.id), removeB(b.id)]);
      const refused = outcomes.filter((outcome) => 'reason' in outcome);
      expect(refused, `round ${round}`).toEqual([expect.objectContaining({ reason: 'last_administrator' })]);
      expect(await administrators(), `round ${round}`).toHaveLength(1);
    }
  });
});
