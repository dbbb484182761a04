/**
 * One racing process, bundled to JavaScript by sqlite-race-processes.ts: `node worker.mjs '<RaceTask JSON>'`.
 * Opens its own store on the shared file, prints "ready", waits for "go" on stdin (the parent's start
 * barrier, sent once every worker is ready), runs its operations concurrently, prints a RaceResult line.
 * The 'audit' task opens after "go" instead, so that several processes migrate one fresh file at once.
 */
import { createInterface } from 'node:readline';
import type { AuditAction, AuditDetails, AuditEventInput } from '../../src/core/audit.js';
import { DEFAULT_ACCOUNT_THROTTLE } from '../../src/core/throttle.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { codeSetFor, GO, type RaceResult, type RaceTask, READY } from './sqlite-race-protocol.js';

const task = JSON.parse(process.argv[2] ?? '{}') as RaceTask;

const audited = (action: AuditAction, userId: string | null, details: AuditDetails): AuditEventInput => ({
  at: new Date(),
  action,
  outcome: 'success',
  userId,
  actorId: null,
  ip: null,
  userAgent: null,
  details: { ...details, pid: process.pid },
});

/**
 * Each operation is shaped like the service's use case: one transaction that READS first, then writes,
 * then audits. A read-first transaction is what a deferred BEGIN gets wrong across processes
 * (SQLITE_BUSY_SNAPSHOT when its stale read snapshot tries to become a write); BEGIN IMMEDIATE does not.
 */
function operations(store: Store): Array<() => Promise<boolean>> {
  switch (task.op) {
    case 'consume':
      return task.slots.map(
        (slot) => () =>
          store.transaction(async (tx) => {
            const code = await tx.findRecoveryCode(task.userId, slot);
            if (code === undefined || code.usedAt !== null) return false;
            const { consumed } = await tx.consumeRecoveryCode(code.setId, slot, new Date());
            if (consumed) await tx.appendAuditEvent(audited('recovery_code_used', task.userId, { slot }));
            return consumed;
          }),
      );
    case 'replace':
      return task.setIds.map(
        (id) => () =>
          store.transaction(async (tx) => {
            const previous = await tx.getRecoveryCodeSummary(task.userId);
            await tx.replaceRecoveryCodeSet(task.userId, codeSetFor(id));
            await tx.appendAuditEvent(
              audited('recovery_codes_regenerated', task.userId, { had: previous !== undefined }),
            );
            return true;
          }),
      );
    case 'charge':
      // Failed-attempt charges on one key at one instant: the back-off must let only the free ones through.
      return Array.from({ length: task.count }, () => async () => {
        const verdict = await store.chargeAttempt(
          task.key,
          DEFAULT_ACCOUNT_THROTTLE,
          'second_factor',
          new Date(0),
        );
        return verdict.charged;
      });
    case 'audit':
      return Array.from({ length: task.count }, (_, i) => async () => {
        await store.appendAuditEvent(audited('sign_in', null, { i }));
        return true;
      });
  }
}

/** Resolves on the parent's "go"; exits if the parent closes stdin first (it gave up on the race). */
function startBarrier(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  let released = false;
  return new Promise((resolve) => {
    lines.on('line', (line) => {
      if (line.trim() === GO) {
        released = true;
        lines.close();
        // An open stdin would keep this process alive after its work is done.
        process.stdin.destroy();
        resolve();
      }
    });
    lines.on('close', () => {
      if (!released) process.exit(2);
    });
  });
}

const barrier = startBarrier();
// The fresh-file race opens (and so migrates) behind the barrier; the others open first so that only
// their operations overlap.
const opensBehindBarrier = task.op === 'audit';
if (opensBehindBarrier) {
  process.stdout.write(`${READY}\n`);
  await barrier;
}
const opened = await openStore({ kind: 'sqlite', path: task.path });
try {
  const runs = operations(opened.store);
  if (!opensBehindBarrier) {
    process.stdout.write(`${READY}\n`);
    await barrier;
  }
  const results = await Promise.all(runs.map((run) => run()));
  process.stdout.write(`${JSON.stringify({ results } satisfies RaceResult)}\n`);
} finally {
  await opened.close();
}
