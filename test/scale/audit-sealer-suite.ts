import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApiKey } from '../../src/service/admin/api-keys.js';
import { verifyAuditChain } from '../../src/service/audit/audit-log.js';
import { AUDIT_SEALER_LEASE_MS } from '../../src/service/audit/audit-sealer.js';
import type { ServiceDeps } from '../../src/service/deps.js';
import type { OpenedStore } from '../../src/store/open-store.js';
import { postgresAvailable } from '../helpers/postgres.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import type { Engine } from '../helpers/service-deps.js';
import { freshDatabase, LOOSEST_THROTTLE_ENV, openLikeTheServers } from './scale-database.js';

/** 10,000 in `npm test`; `npm run stress` raises it (SPAREKEY_STRESS_AUDIT_ACTIONS). */
const MIXED_ACTIONS = Number(process.env.SPAREKEY_STRESS_AUDIT_ACTIONS ?? 10_000);
const IN_FLIGHT = 32;

/**
 * Issue 25 (decision 0005): audited actions insert their events without a shared lock; one process at a
 * time, holding the sealer lease, links them into the chain. Real server processes on one database.
 * One file per engine (audit-sealer.test.ts on SQLite, audit-sealer-postgres.test.ts), run in parallel.
 */
export function defineAuditSealerSuite(engine: Engine): void {
  describe.skipIf(engine === 'postgres' && !postgresAvailable())(
    `the audit sealer across server processes on ${engine}`,
    () => {
      let servers: ServerProcess[] = [];
      let opened: OpenedStore;
      let deps: ServiceDeps;
      let drop: () => Promise<void>;
      let close: () => Promise<void>;
      let apiKey: string;
      let serverEnv: Record<string, string>;

      beforeAll(async () => {
        const database = await freshDatabase(engine, LOOSEST_THROTTLE_ENV);
        drop = database.drop;
        serverEnv = database.env;
        servers = await Promise.all([0, 1].map(() => startServerProcess(database.env)));
        ({ opened, deps, close } = await openLikeTheServers(database.env));
        const key = await createApiKey(deps, { name: 'sealer', scopes: ['admin'], context: {} });
        if (!key.ok) throw new Error(key.error);
        apiKey = key.value.key;
      }, 90_000);

      afterAll(async () => {
        await Promise.all(servers.map((server) => server.stop().catch(() => null)));
        await close?.();
        await drop?.();
      });

      /** An audited refusal (api_key_refused), acknowledged once the answer is in. */
      const refused = async (server: ServerProcess) => {
        const response = await fetch(`${server.url}/api/v1/statistics`, {
          headers: { authorization: 'Bearer not-a-key' },
        });
        expect(response.status).toBe(401);
      };

      const unsealed = async () => (await opened.store.getAuditSealingState()).unsealed;

      async function waitUntilSealed(timeoutMs: number): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        while ((await unsealed()) > 0) {
          if (Date.now() > deadline) throw new Error(`${await unsealed()} events still unsealed`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }

      const sealerPid = async () => {
        const row = await opened.db.selectFrom('audit_sealer').select('holder').executeTakeFirstOrThrow();
        return Number(row.holder.split(':')[1]);
      };

      test('SIGKILL of the process holding the sealer role: events committed meanwhile are sealed by the other and verify', async () => {
        await Promise.all(Array.from({ length: 40 }, (_, i) => refused(servers[i % 2]!)));
        await waitUntilSealed(10_000);
        const pid = await sealerPid();
        const victim = servers.find((server) => server.child.pid === pid);
        const survivor = servers.find((server) => server.child.pid !== pid);
        if (!victim || !survivor) throw new Error(`no server holds the lease (holder pid ${pid})`);

        // Events keep coming while the sealer dies, so it is likely killed in the middle of a round.
        const during = Promise.all(Array.from({ length: 60 }, () => refused(survivor)));
        victim.child.kill('SIGKILL');
        await new Promise((resolve) => victim.child.once('exit', resolve));
        await during;
        await refused(survivor);
        // Committed while the dead sealer's lease still runs: no process may seal it yet.
        const { rows } = await sql<{ chain_seq: number | null; lease_live: number | boolean }>`
      select e.chain_seq, (s.expires_at > ${sql.raw(engine === 'sqlite' ? "cast((julianday('now') - 2440587.5) * 86400000 as integer)" : '(extract(epoch from clock_timestamp()) * 1000)::bigint')}) as lease_live
      from audit_events e, audit_sealer s where e.seq = (select max(seq) from audit_events)`.execute(
          opened.db,
        );
        if (rows[0]?.lease_live) expect(rows[0].chain_seq).toBeNull();

        await waitUntilSealed(AUDIT_SEALER_LEASE_MS + 10_000);
        expect(await sealerPid()).toBe(survivor.child.pid);
        const total = await opened.db
          .selectFrom('audit_events')
          .select((eb) => eb.fn.countAll<number | string>().as('events'))
          .executeTakeFirstOrThrow();
        const verification = await verifyAuditChain(opened.store);
        expect(verification).toMatchObject({ ok: true, unsealed: 0 });
        expect(verification.checked).toBe(Number(total.events));
        servers = [survivor];
      }, 120_000);

      test(`statistics equal the ground truth after ${MIXED_ACTIONS.toLocaleString('en')} concurrent mixed actions over two processes`, async () => {
        // The killed process's place is taken by a new one, so two instances serve the load again.
        while (servers.length < 2) servers.push(await startServerProcess(serverEnv));
        const from = new Date(Date.now() - 60_000);
        const before = await countsByAction(from);
        const sent = { refused: 0, used: 0, signIn: 0 };
        // Mostly cheap refusals and key uses; one in eight pays a password hash (the minimum KDF).
        const kinds = ['refused', 'used', 'refused', 'used', 'refused', 'used', 'refused', 'signIn'] as const;
        let next = 0;
        const worker = async () => {
          for (;;) {
            const index = next;
            next += 1;
            if (index >= MIXED_ACTIONS) return;
            const server = servers[index % servers.length]!;
            const kind = kinds[index % kinds.length]!;
            if (kind === 'refused') await refused(server);
            if (kind === 'used') {
              const response = await fetch(`${server.url}/api/v1/audit-events?limit=1`, {
                headers: { authorization: `Bearer ${apiKey}` },
              });
              expect(response.status).toBe(200);
            }
            if (kind === 'signIn') {
              const response = await fetch(`${server.url}/api/v1/auth/sign-in`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ email: `nobody-${index}@example.test`, password: 'not the password' }),
              });
              expect(response.status).toBe(401);
            }
            sent[kind] += 1;
          }
        };
        await Promise.all(Array.from({ length: IN_FLIGHT }, worker));

        // Exact at once, sealed or not (counters plus the unsealed events, one snapshot) ...
        const counted = await countsByAction(from);
        const truth = await groundTruth(from);
        expect(counted).toEqual(truth);
        expect((counted.api_key_refused ?? 0) - (before.api_key_refused ?? 0)).toBe(sent.refused);
        expect((counted.api_key_used ?? 0) - (before.api_key_used ?? 0)).toBe(sent.used);
        expect((counted.sign_in_failed ?? 0) - (before.sign_in_failed ?? 0)).toBe(sent.signIn);
        // ... and once everything is sealed, from the sealer's counters alone.
        await waitUntilSealed(AUDIT_SEALER_LEASE_MS + 30_000);
        expect(await countsByAction(from)).toEqual(truth);
        expect(await verifyAuditChain(opened.store)).toMatchObject({ ok: true, unsealed: 0 });
      }, 600_000);

      async function countsByAction(from: Date): Promise<Record<string, number>> {
        const rows = await opened.store.countAuditEventsByBucket({
          actions: ['api_key_refused', 'api_key_used', 'sign_in_failed', 'rate_limited'],
          from,
          to: new Date(Date.now() + 3600_000),
        });
        const totals: Record<string, number> = {};
        for (const row of rows) totals[row.action] = (totals[row.action] ?? 0) + row.events;
        return totals;
      }

      /** Counted the slow way, from the events themselves. */
      async function groundTruth(from: Date): Promise<Record<string, number>> {
        const bucketStart = from.getTime() - (from.getTime() % (15 * 60_000));
        const rows = await opened.db
          .selectFrom('audit_events')
          .select(['action', (eb) => eb.fn.countAll<number | string>().as('events')])
          .where('action', 'in', ['api_key_refused', 'api_key_used', 'sign_in_failed', 'rate_limited'])
          .where('at', '>=', bucketStart)
          .groupBy('action')
          .execute();
        return Object.fromEntries(rows.map((row) => [row.action, Number(row.events)]));
      }
    },
  );
}
