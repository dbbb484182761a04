import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { AUDIT_GENESIS_HASH } from '../../src/core/audit.js';
import { DEFAULT_ACCOUNT_THROTTLE } from '../../src/core/throttle.js';
import {
  allAuditEvents,
  expectChainVerifies,
  givenUser,
  newCodeSet,
} from '../../src/store/contract/fixtures.js';
import { expectOneCompleteSet } from '../../src/store/contract/set-invariants.js';
import { openStore } from '../../src/store/open-store.js';
import { reportStressRow } from '../scale/stress-report.js';
import { runRacingProcesses } from './sqlite-race-processes.js';
import { codeSetFor } from './sqlite-race-protocol.js';

/** Per process; `npm run stress` raises both (SPAREKEY_STRESS_RACE_CONSUMES, SPAREKEY_STRESS_RACE_CHARGES). */
const CONSUMES = Number(process.env.SPAREKEY_STRESS_RACE_CONSUMES ?? 10);
const CHARGES = Number(process.env.SPAREKEY_STRESS_RACE_CHARGES ?? 50);

/**
 * In one process Kysely's single SQLite connection serializes everything, which proves little. Here
 * several OS processes share one file: only BEGIN IMMEDIATE and the conditional UPDATEs keep them honest.
 */
describe('SQLite across processes', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sparekey-race-'));
    path = join(dir, 'sparekey.db');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test(`5 processes × ${CONSUMES} concurrent consumes of one code: exactly one winner overall`, async () => {
    const { store, close } = await openStore({ kind: 'sqlite', path });
    try {
      const user = await givenUser(store);
      const set = newCodeSet(10);
      await store.replaceRecoveryCodeSet(user.id, set);
      // Each process also consumes one code of its own at the same time: different codes must all count.
      const tasks = Array.from({ length: 5 }, (_, i) => ({
        path,
        op: 'consume' as const,
        userId: user.id,
        slots: [...Array(CONSUMES).fill(0), i + 1],
      }));
      const outcomes = await runRacingProcesses(tasks);
      const sharedWins = outcomes.flatMap((outcome) => outcome.results.slice(0, CONSUMES)).filter(Boolean);
      const events = await allAuditEvents(store);
      const ownWins = outcomes.filter((outcome) => outcome.results[CONSUMES]).length;
      reportStressRow({
        suite: `SQLite store, 5 OS processes × ${CONSUMES} consumes of one code`,
        file: import.meta.url,
        attempts: 5 * CONSUMES,
        accepted: sharedWins.length,
        acceptedLabel: 'accepted',
        doubleAccepts: Math.max(0, sharedWins.length - 1),
        lostEvents: Math.max(0, sharedWins.length + ownWins - events.length),
        serverErrors: null,
      });
      expect(sharedWins).toHaveLength(1);
      expect(outcomes.map((outcome) => outcome.results[CONSUMES])).toEqual([true, true, true, true, true]);
      expect(await store.getRecoveryCodeSummary(user.id)).toMatchObject({ remaining: 10 - 1 - 5 });
      // One audit event per win, in one chain, whichever process appended it.
      expect(events).toHaveLength(1 + 5);
      expectChainVerifies(events, AUDIT_GENESIS_HASH);
    } finally {
      await close();
    }
  });

  test(`req 47: 4 processes × ${CHARGES} concurrent failed-attempt charges on one account: exactly 5 charged overall`, async () => {
    const { close } = await openStore({ kind: 'sqlite', path });
    await close();
    const key = `account:${randomUUID()}`;
    const outcomes = await runRacingProcesses(
      Array.from({ length: 4 }, () => ({ path, op: 'charge' as const, key, count: CHARGES })),
    );
    const charged = outcomes.flatMap((outcome) => outcome.results).filter(Boolean).length;
    const allowed = DEFAULT_ACCOUNT_THROTTLE.freeFailures;
    reportStressRow({
      suite: `SQLite store, 4 OS processes × ${CHARGES} failed-attempt charges`,
      file: import.meta.url,
      attempts: 4 * CHARGES,
      accepted: charged,
      acceptedLabel: `charged (${allowed} allowed)`,
      doubleAccepts: Math.max(0, charged - allowed),
      lostEvents: null,
      serverErrors: null,
    });
    expect(charged).toBe(allowed);
  });

  test('4 processes × 5 concurrent regenerations for one user: one complete set', async () => {
    const { store, db, close } = await openStore({ kind: 'sqlite', path });
    try {
      const user = await givenUser(store);
      await store.replaceRecoveryCodeSet(user.id, newCodeSet(10));
      const setIds = Array.from({ length: 4 }, () => Array.from({ length: 5 }, () => randomUUID()));
      await runRacingProcesses(
        setIds.map((ids) => ({ path, op: 'replace' as const, userId: user.id, setIds: ids })),
      );
      await expectOneCompleteSet(
        db,
        store,
        user.id,
        setIds.flat().map((id) => codeSetFor(id)),
      );
      const events = await allAuditEvents(store);
      expect(events).toHaveLength(20);
      expectChainVerifies(events, AUDIT_GENESIS_HASH);
    } finally {
      await close();
    }
  });

  test('4 processes opening a fresh file at once migrate it once and append one gapless chain', async () => {
    const outcomes = await runRacingProcesses(
      Array.from({ length: 4 }, () => ({ path, op: 'audit' as const, count: 10 })),
    );
    expect(outcomes.flatMap((outcome) => outcome.results)).toHaveLength(40);
    const { store, close } = await openStore({ kind: 'sqlite', path });
    try {
      const events = await allAuditEvents(store);
      expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expectChainVerifies(events, AUDIT_GENESIS_HASH);
    } finally {
      await close();
    }
  });
});
