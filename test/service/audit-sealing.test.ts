import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { AuditEventInput } from '../../src/core/audit.js';
import {
  describeChainBreak,
  exportAuditEvents,
  verifyAuditChain,
} from '../../src/service/audit/audit-log.js';
import { testEngines } from '../helpers/engines.js';
import { createWebTestApp, type FormClient, type WebTestApp } from '../helpers/web-client.js';
import { signedInAdmin } from '../helpers/web-flows.js';

/**
 * Issue 25 (decision 0007): after sealing, altering, deleting or reordering events is named by the
 * verification; an event committed but not yet sealed is listed in the admin log and in the exports,
 * marked as such. Both engines, through the real pages for the log.
 */
describe.each(testEngines())('the sealed audit chain on %s', (engine) => {
  let web: WebTestApp;
  let admin: FormClient;
  beforeEach(async () => {
    web = await createWebTestApp(engine);
    ({ client: admin } = await signedInAdmin(web, 'root@example.test'));
  });
  afterEach(async () => web?.close());

  const store = () => web.env.deps.store;
  const event = (userId: string): AuditEventInput => ({
    at: web.env.clock.now(),
    action: 'sign_in_failed',
    outcome: 'failure',
    userId,
    actorId: null,
    ip: '192.0.2.7',
    userAgent: 'sealing-test',
    details: { reason: 'wrong_credentials' },
  });

  /** Appends `count` events and seals everything; returns the chain places of the new ones by seq. */
  async function sealedEvents(count: number): Promise<{ seq: number; chainSeq: number }[]> {
    const appended = [];
    for (let i = 0; i < count; i += 1) appended.push(await store().appendAuditEvent(event(`user-${i}`)));
    expect(await verifyAuditChain(store())).toMatchObject({ ok: true, unsealed: 0 });
    const sealed = await store().listAuditEventsAscending({ limit: 1000 });
    return appended.map((one) => {
      const found = sealed.find((row) => row.seq === one.seq);
      return { seq: one.seq, chainSeq: found?.chainSeq ?? Number.NaN };
    });
  }

  test('two sealed events swapped in the chain: the verification names the moved event', async () => {
    const [, second, third] = await sealedEvents(4);
    const db = web.env.opened.db;
    // Swap the chain places of two events (an insider reordering the log), rows otherwise untouched.
    await sql`update audit_events set chain_seq = -1 where seq = ${second!.seq}`.execute(db);
    await sql`update audit_events set chain_seq = ${second!.chainSeq} where seq = ${third!.seq}`.execute(db);
    await sql`update audit_events set chain_seq = ${third!.chainSeq} where seq = ${second!.seq}`.execute(db);
    const result = await verifyAuditChain(store());
    expect(result.firstBreak).toEqual({
      problem: 'moved',
      chainSeq: second!.chainSeq,
      seq: third!.seq,
      movedFrom: third!.chainSeq,
    });
    expect(describeChainBreak(result.firstBreak!)).toContain(`Event #${third!.seq} was moved`);
    // The page names it too.
    const page = await admin.get('/admin/audit/verify');
    expect(page.body).toContain(`Event #${third!.seq} was moved`);
  });

  test('an altered and a deleted sealed event are named', async () => {
    const [first, second] = await sealedEvents(3);
    const db = web.env.opened.db;
    await sql`update audit_events set ip = '203.0.113.1' where seq = ${second!.seq}`.execute(db);
    expect((await verifyAuditChain(store())).firstBreak).toEqual({
      problem: 'altered',
      chainSeq: second!.chainSeq,
      seq: second!.seq,
    });
    await sql`update audit_events set ip = '192.0.2.7' where seq = ${second!.seq}`.execute(db);
    expect((await verifyAuditChain(store())).ok).toBe(true);
    // Editing an event's own number is an alteration too (it is hashed when it differs from the place).
    await sql`update audit_events set seq = seq + 100000 where seq = ${second!.seq}`.execute(db);
    expect((await verifyAuditChain(store())).firstBreak).toMatchObject({ problem: 'altered' });
    await sql`update audit_events set seq = seq - 100000 where seq = ${second!.seq + 100000}`.execute(db);
    await sql`delete from audit_events where seq = ${second!.seq}`.execute(db);
    const deleted = await verifyAuditChain(store());
    expect(deleted.firstBreak).toEqual({ problem: 'missing', chainSeq: second!.chainSeq, after: first!.seq });
    expect((await admin.get('/admin/audit/verify')).body).toContain(
      `The event at chain place ${second!.chainSeq} is missing`,
    );
  });

  test('an event committed but not yet sealed is in the admin log and the exports, marked as not yet sealed', async () => {
    await sealedEvents(1);
    const pending = await store().appendAuditEvent(event('not-sealed-yet'));
    const page = await admin.get('/admin/audit');
    expect(page.statusCode).toBe(200);
    const row = page.body.split('<tr').find((html) => html.includes('not-sealed-yet'));
    expect(row).toBeDefined();
    expect(row).toContain('not yet sealed');
    expect(page.body.split('not yet sealed').length - 1).toBeGreaterThanOrEqual(1);
    let jsonl = '';
    for await (const chunk of exportAuditEvents(store(), 'jsonl')) jsonl += chunk;
    const lines = jsonl
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.find((line) => line.seq === pending.seq)).toMatchObject({
      sealed: false,
      chainSeq: null,
      hash: null,
    });
    expect(lines.filter((line) => line.sealed).every((line) => line.hash.length === 64)).toBe(true);
    let csv = '';
    for await (const chunk of exportAuditEvents(store(), 'csv')) csv += chunk;
    expect(csv.split('\r\n').find((line) => line.includes('not-sealed-yet'))).toMatch(/,,,false$/);
  });
});
