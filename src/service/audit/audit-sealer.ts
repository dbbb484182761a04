import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store } from '../../store/store.js';
import type { ServiceDeps } from '../deps.js';

/**
 * The audit sealer (decision 0005). Every instance runs one; the one holding the lease links committed
 * events into the hash chain, the others stand by and take over when its lease runs out (its instance
 * died) or is released (its instance stopped). Sealing lag is bounded by SEAL_INTERVAL_MS plus a round's
 * work while a sealer lives, and by AUDIT_SEALER_LEASE_MS more when one dies.
 */
export const AUDIT_SEALER_LEASE_MS = 3_000;
export const SEAL_INTERVAL_MS = 25;
/** Events linked per sealing transaction. */
export const SEAL_BATCH = 500;
/** How often a standby instance asks whether the lease is free. */
const STANDBY_INTERVAL_MS = 500;

export interface AuditSealerOptions {
  holder?: string;
  intervalMs?: number;
  leaseMs?: number;
  onSealed?: (round: { sealed: number; lagMs: number | null }) => void;
  onError?: (error: unknown) => void;
}

/** Seals as `holder` until nothing committed is left unsealed or another holder has the lease. */
export async function sealBacklog(
  store: Store,
  holder: string,
  leaseMs = AUDIT_SEALER_LEASE_MS,
): Promise<{ role: 'sealer' | 'standby'; sealed: number; lagMs: number | null }> {
  let sealed = 0;
  let lagMs: number | null = null;
  for (;;) {
    const round = await store.sealAuditEvents({ holder, leaseMs, limit: SEAL_BATCH });
    if (round.role === 'standby') return { role: 'standby', sealed, lagMs };
    sealed += round.sealed;
    lagMs = round.lagMs ?? lagMs;
    if (round.sealed < SEAL_BATCH) return { role: 'sealer', sealed, lagMs };
  }
}

/**
 * Starts this instance's sealer; the returned function stops it and releases the lease, so a graceful
 * shutdown hands sealing over at once. A round runs only when there is something to seal or the lease
 * needs renewing, so an idle sealer costs one indexed read per interval and no writes.
 */
/** startAuditSealer on the service's store: what the server starts (build-server.ts holds no store). */
export function startAuditSealerFor(
  deps: ServiceDeps,
  options: AuditSealerOptions = {},
): () => Promise<void> {
  return startAuditSealer(deps.store, options);
}

export function startAuditSealer(store: Store, options: AuditSealerOptions = {}): () => Promise<void> {
  // Host and process id first, so an operator (or a test) reading audit_sealer sees which process seals.
  const holder = options.holder ?? `${hostname()}:${process.pid}:${randomUUID()}`;
  const intervalMs = options.intervalMs ?? SEAL_INTERVAL_MS;
  const leaseMs = options.leaseMs ?? AUDIT_SEALER_LEASE_MS;
  let role: 'sealer' | 'standby' = 'standby';
  let lastRoundAt = 0;
  let stopped = false;
  let running: Promise<void> | undefined;

  const tick = async () => {
    const sinceRound = Date.now() - lastRoundAt;
    if (role === 'standby' && sinceRound < STANDBY_INTERVAL_MS) return;
    // Renew a third of the way into the lease even when idle, so no standby takes over a live sealer.
    if (role === 'sealer' && sinceRound < leaseMs / 3) {
      const state = await store.getAuditSealingState();
      if (state.unsealed === 0) return;
    }
    lastRoundAt = Date.now();
    const result = await sealBacklog(store, holder, leaseMs);
    role = result.role;
    if (result.sealed > 0) options.onSealed?.({ sealed: result.sealed, lagMs: result.lagMs });
  };
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = tick()
      .catch((error) => options.onError?.(error))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
    await store.releaseAuditSealer(holder).catch((error) => options.onError?.(error));
  };
}

/**
 * Makes sure every event committed before the call is sealed: seals them itself when no live sealer
 * holds the lease (then releases it), else waits for the sealer, up to `timeoutMs`. Used before
 * verifying, so a verification covers everything committed when it was asked for. Returns how many
 * events are still unsealed at the end (0 unless the time ran out).
 */
export async function sealCommittedEvents(
  store: Store,
  options: { timeoutMs?: number; leaseMs?: number } = {},
): Promise<number> {
  const leaseMs = options.leaseMs ?? AUDIT_SEALER_LEASE_MS;
  const deadline = Date.now() + (options.timeoutMs ?? 2 * leaseMs + 1_000);
  const target = (await store.getAuditSealingState()).newestSeq;
  const holder = `verify-${randomUUID()}`;
  try {
    for (;;) {
      const state = await store.getAuditSealingState();
      const done = state.oldestUnsealedSeq === null || target === null || state.oldestUnsealedSeq > target;
      if (done) return state.unsealed;
      if (Date.now() > deadline) return state.unsealed;
      const round = await sealBacklog(store, holder, leaseMs);
      if (round.role === 'standby') await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await store.releaseAuditSealer(holder);
  }
}
