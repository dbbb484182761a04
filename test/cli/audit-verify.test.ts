import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, test } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';

/** The CLI in this process; `out` is standard output followed by standard error. */
async function cli(dataDir: string, ...args: string[]) {
  const run = await runCliInProcess(args, { SPAREKEY_DATA_DIR: dataDir });
  return { status: run.status, out: run.out + run.err };
}

describe('sparekey audit verify', () => {
  test('exit 0 on an intact chain; exit 1 naming the first altered, then the first deleted event', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'sparekey-cli-')), 'data');
    expect((await cli(dataDir, 'audit', 'verify')).status).toBe(0); // creates the empty database
    const opened = await openStore({ kind: 'sqlite', path: join(dataDir, 'sparekey.db') });
    try {
      for (let i = 0; i < 8; i += 1) {
        await opened.store.appendAuditEvent({
          at: new Date(Date.UTC(2026, 10, 1, 12, i)),
          action: 'sign_in',
          outcome: 'success',
          userId: `user-${i}`,
          actorId: null,
          ip: '192.0.2.1',
          userAgent: 'cli-test',
          details: { method: 'password' },
        });
      }
    } finally {
      await opened.close();
    }
    const intact = await cli(dataDir, 'audit', 'verify');
    expect(intact).toEqual({
      status: 0,
      out: 'The audit chain verifies: 8 events, none altered or missing.\n',
    });

    const tamper = async (statement: ReturnType<typeof sql>) => {
      const db = await openStore({ kind: 'sqlite', path: join(dataDir, 'sparekey.db') });
      await statement.execute(db.db);
      await db.close();
    };
    await tamper(sql`update audit_events set user_id = 'someone-else' where seq = 5`);
    const altered = await cli(dataDir, 'audit', 'verify');
    expect(altered.status).toBe(1);
    expect(altered.out).toContain('Event #5 was altered');
    await tamper(sql`delete from audit_events where seq = 2`);
    const deleted = await cli(dataDir, 'audit', 'verify');
    expect(deleted.status).toBe(1);
    expect(deleted.out).toContain(
      'The event at chain place 2 is missing: it was deleted (it came after event #1).',
    );
    expect((await cli(dataDir, 'nonsense')).status).toBe(2);
  });
});
