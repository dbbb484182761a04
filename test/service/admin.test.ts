import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createApiKey } from '../../src/service/admin/api-keys.js';
import {
  API_KEY_LAST_USED_PRECISION_MS,
  authorizeApiKey,
} from '../../src/service/admin/authorize-api-key.js';
import { resetUserMfa } from '../../src/service/admin/reset-mfa.js';
import { addRole, assignRoles, listRoles } from '../../src/service/admin/roles.js';
import { getRecoveryCodeStatistics } from '../../src/service/admin/statistics.js';
import { exportAuditEvents, purgeAuditLog, verifyAuditChain } from '../../src/service/audit/audit-log.js';
import { generateRecoveryCodes } from '../../src/service/recovery-codes/generate-recovery-codes.js';
import { verifyRecoveryCode } from '../../src/service/recovery-codes/verify-recovery-code.js';
import { resolveSession, startSession } from '../../src/service/sessions/sessions.js';
import { backendAuthority } from '../../src/service/sign-in/change-authority.js';
import { testEngines } from '../helpers/engines.js';
import { configureRecoveryCodes, enableTotp } from '../helpers/mfa.js';
import { createTestEnvironment, createTestUser, type TestEnvironment } from '../helpers/service-deps.js';

describe.each(testEngines())('operator console use cases on %s', (engine) => {
  let env: TestEnvironment;
  beforeEach(async () => {
    env = await createTestEnvironment(engine, { timeZone: 'America/New_York', notifications: true });
    await configureRecoveryCodes(env, { codesPerSet: 5, lowThreshold: 2 });
  });
  afterEach(async () => env.close());

  test('statistics equal the ground truth computed from the sets and the audit events after scripted use', async () => {
    // 2026-11-22 12:00 UTC is 07:00 in New York. Scripted use over three local days.
    const users: { id: string; codes: string[] }[] = [];
    for (let i = 0; i < 6; i += 1) {
      const user = await createTestUser(env);
      const { recoveryCodes } = await enableTotp(env, user.id);
      users.push({ ...user, codes: recoveryCodes?.codes ?? [] });
    }
    const use = async (index: number, code: number) =>
      verifyRecoveryCode(env.deps, {
        userId: users[index]!.id,
        code: users[index]!.codes[code]!,
        context: {},
      });
    await use(0, 0); // yesterday (local)
    env.clock.advance(24 * 3600_000);
    await use(0, 1);
    await use(0, 2);
    await use(1, 0);
    await verifyRecoveryCode(env.deps, { userId: users[2]!.id, code: 'K-0000-00000', context: {} });
    await use(3, 0);
    await use(3, 1);
    await use(3, 2);
    await use(3, 3);
    await use(3, 4); // user 3 has none left
    await generateRecoveryCodes(env.deps, {
      authority: backendAuthority({ kind: 'library', actorId: 'test' }),
      userId: users[4]!.id,
      context: {},
    });
    // 23:30 local is 04:30 UTC the next day: still "today" in New York.
    env.clock.nowMs = Date.UTC(2026, 10, 24, 4, 30);
    await use(5, 0);

    const stats = await getRecoveryCodeStatistics(env.deps);
    // Ground truth, the slow way.
    const summaries = await Promise.all(users.map((user) => env.deps.store.getRecoveryCodeSummary(user.id)));
    const remaining = summaries.map((summary) => summary?.remaining ?? 0);
    expect(remaining).toEqual([2, 4, 5, 0, 5, 4]);
    expect(stats.usersWithCodes).toBe(remaining.filter((r) => r > 0).length);
    expect(stats.lowOnCodes).toBe(remaining.filter((r) => r > 0 && r <= 2).length);
    const events = await env.deps.store.listAuditEvents({ action: 'recovery_code_used', limit: 1000 });
    const localDay = (at: Date) => at.toLocaleDateString('en-CA', { timeZone: 'America/New_York' });
    const today = localDay(env.clock.now());
    expect(stats.usedToday).toBe(events.filter((event) => localDay(event.at) === today).length);
    expect(stats.usedThisMonth).toBe(events.length);
    expect(stats.failedToday).toBe(1);
    expect(stats.last30Days).toHaveLength(30);
    expect(stats.last30Days[29]).toEqual({ date: today, used: stats.usedToday, failed: 1 });
    expect(stats.last30Days.reduce((total, day) => total + day.used, 0)).toBe(events.length);
  });

  test('the hash chain names the first altered, unlinked or deleted event; a purge keeps the rest verifiable', async () => {
    const user = await createTestUser(env);
    await enableTotp(env, user.id);
    for (let i = 0; i < 5; i += 1)
      await generateRecoveryCodes(env.deps, {
        authority: backendAuthority({ kind: 'library', actorId: 'test' }),
        userId: user.id,
        context: {},
      });
    const intact = await verifyAuditChain(env.deps.store);
    expect(intact.ok).toBe(true);
    const head = await env.deps.store.getAuditChainHead();
    expect(intact.checked).toBe(head.lastSeq);
    const db = env.opened.db;

    // Altered: an attacker edits one row's IP.
    await sql`update audit_events set ip = '203.0.113.9' where seq = 4`.execute(db);
    expect((await verifyAuditChain(env.deps.store)).firstBreak).toEqual({
      problem: 'altered',
      chainSeq: 4,
      seq: 4,
    });
    await sql`update audit_events set ip = null where seq = 4`.execute(db);
    expect((await verifyAuditChain(env.deps.store)).ok).toBe(true);

    // Deleted from the middle, then from the end.
    await sql`delete from audit_events where seq = 3`.execute(db);
    expect((await verifyAuditChain(env.deps.store)).firstBreak).toEqual({
      problem: 'missing',
      chainSeq: 3,
      after: 2,
    });
    const last = head.lastSeq;
    await sql`delete from audit_events where seq = ${last}`.execute(db);
    const broken = await verifyAuditChain(env.deps.store);
    expect(broken.firstBreak).toEqual({ problem: 'missing', chainSeq: 3, after: 2 });

    // A purge (of everything before now) re-anchors the chain: it verifies again from the kept events.
    env.clock.advance(400 * 24 * 3600_000);
    const purged = await purgeAuditLog(env.deps, { olderThanDays: 30, context: {} });
    expect(purged.purged).toBeGreaterThan(0);
    expect((await verifyAuditChain(env.deps.store)).ok).toBe(true);
  });

  test('exports stream every matching event as CSV and JSON Lines, with no spreadsheet formulas', async () => {
    const user = await createTestUser(env);
    await env.deps.store.appendAuditEvent({
      at: env.clock.now(),
      action: 'sign_in_failed',
      outcome: 'failure',
      userId: user.id,
      actorId: null,
      ip: '192.0.2.1',
      userAgent: '=HYPERLINK("http://evil")',
      details: { reason: 'wrong_credentials' },
    });
    let csv = '';
    for await (const chunk of exportAuditEvents(env.deps.store, 'csv', { userId: user.id })) csv += chunk;
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe(
      'seq,at,action,outcome,userId,userEmail,actorId,actorEmail,ip,userAgent,details,prevHash,hash,chainSeq,sealed',
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://evil"")"`);
    let jsonl = '';
    for await (const chunk of exportAuditEvents(env.deps.store, 'jsonl', { action: 'sign_in_failed' }))
      jsonl += chunk;
    const parsed = jsonl
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(parsed.at(-1)).toMatchObject({
      action: 'sign_in_failed',
      userAgent: '=HYPERLINK("http://evil")',
    });
  });

  test('reset: factors, codes and sessions go in one transaction; the reason is audited; the user is emailed', async () => {
    const user = await createTestUser(env);
    await enableTotp(env, user.id);
    const { token } = await startSession(env.deps, { userId: user.id, stage: 'signed_in', context: {} });
    const admin = await createTestUser(env, { roles: ['administrator'] });
    const refused = await resetUserMfa(env.deps, {
      userId: user.id,
      reason: '  ',
      context: { actorId: admin.id },
    });
    expect(refused).toEqual({ ok: false, error: 'reason_required' });
    const reset = await resetUserMfa(env.deps, {
      userId: user.id,
      reason: 'Ticket 4711: lost phone, identity checked by video call',
      context: { actorId: admin.id, ip: '198.51.100.4' },
    });
    expect(reset).toEqual({ ok: true, value: { factorsRemoved: 1, sessionsEnded: 1 } });
    expect(await env.deps.store.listFactors(user.id)).toEqual([]);
    expect(await env.deps.store.getRecoveryCodeSummary(user.id)).toBeUndefined();
    expect(await resolveSession(env.deps, token)).toBeUndefined();
    const [event] = await env.deps.store.listAuditEvents({ action: 'mfa_reset', limit: 1 });
    expect(event).toMatchObject({ userId: user.id, actorId: admin.id, ip: '198.51.100.4' });
    expect(event?.details.reason).toBe('Ticket 4711: lost phone, identity checked by video call');
    expect(env.smtp.messages.at(-1)?.subject).toContain('two-factor authentication was reset');
  });

  test("API keys: each call is authenticated; 'last used' is written at most once a minute", async () => {
    const created = await createApiKey(env.deps, {
      name: 'backend',
      scopes: ['recovery_codes:read'],
      context: {},
    });
    if (!created.ok) throw new Error(created.error);
    const lastUsed = async () => (await env.deps.store.findApiKey(created.value.id))?.lastUsedAt?.getTime();
    const use = (key: string) =>
      authorizeApiKey(env.deps, { key, scope: 'recovery_codes:read', operation: 'test', context: {} });
    const call = async () => (await use(created.value.key)).ok;
    expect(await call()).toBe(true);
    const first = env.clock.nowMs;
    expect(await lastUsed()).toBe(first);
    env.clock.advance(API_KEY_LAST_USED_PRECISION_MS - 1);
    expect(await call()).toBe(true);
    expect(await lastUsed()).toBe(first);
    env.clock.advance(1);
    expect(await call()).toBe(true);
    expect(await lastUsed()).toBe(first + API_KEY_LAST_USED_PRECISION_MS);
    expect(await use(`${created.value.key}x`)).toEqual({ ok: false, error: 'api_key_required' });
  });

  test('roles: custom roles are added once with valid names; assignments accept known roles only', async () => {
    expect(await addRole(env.deps, { name: 'Support', context: {} })).toEqual({
      ok: true,
      value: { name: 'support' },
    });
    expect(await addRole(env.deps, { name: 'support', context: {} })).toEqual({
      ok: false,
      error: 'role_exists',
    });
    expect(await addRole(env.deps, { name: 'editor', context: {} })).toEqual({
      ok: false,
      error: 'role_exists',
    });
    expect(await addRole(env.deps, { name: 'no spaces', context: {} })).toEqual({
      ok: false,
      error: 'invalid_role_name',
    });
    expect(await listRoles(env.deps)).toEqual(['administrator', 'editor', 'author', 'subscriber', 'support']);
    const user = await createTestUser(env);
    expect(
      await assignRoles(env.deps, { userId: user.id, roles: ['support', 'editor'], context: {} }),
    ).toEqual({
      ok: true,
      value: { roles: ['editor', 'support'] },
    });
    expect(await assignRoles(env.deps, { userId: user.id, roles: ['root'], context: {} })).toEqual({
      ok: false,
      error: 'unknown_role',
    });
    const [event] = await env.deps.store.listAuditEvents({ action: 'roles_changed', limit: 1 });
    expect(event?.details).toEqual({ before: 'subscriber', after: 'editor,support' });
  });
});
