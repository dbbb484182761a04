import { randomUUID } from 'node:crypto';
import { counterShardOf } from '../../src/store/kysely/counter-shards.js';
import type { Store } from '../../src/store/store.js';

/** A fresh user id whose counter shard (counter-shards.ts) satisfies `inShard`. */
export function idInShard(inShard: (shard: number) => boolean): string {
  let id = randomUUID();
  while (!inShard(counterShardOf(id))) id = randomUUID();
  return id;
}

/**
 * Whether `probe` finishes while a transaction that has run `hold` is still open: the transaction waits
 * (after `hold`, holding whatever row locks it took) until the probe has finished or `waitMs` has passed,
 * then commits. A probe that needs one of those locks cannot finish first (PostgreSQL; SQLite has one
 * writer at a time). Returns that, and the probe's own result, awaited after the commit.
 */
export async function finishesWhileHeld<T>(
  store: Store,
  hold: (tx: Store) => Promise<void>,
  probe: () => Promise<T>,
  waitMs = 1500,
): Promise<{ finishedFirst: boolean; result: T }> {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held: () => void = () => undefined;
  const holding = new Promise<void>((resolve) => {
    held = resolve;
  });
  const transaction = store.transaction(async (tx) => {
    await hold(tx);
    held();
    await released;
  });
  await holding;
  const probing = probe();
  const finishedFirst = await Promise.race([
    probing.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), waitMs)),
  ]);
  release();
  await transaction;
  return { finishedFirst, result: await probing };
}
