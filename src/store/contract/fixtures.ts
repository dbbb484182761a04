import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import { type AuditEvent, type AuditEventInput, hashAuditEvent } from '../../core/audit.js';
import type { OpenedStore } from '../open-store.js';
import type { NewRecoveryCodeSet, NewUser, Store } from '../store.js';

export type MakeStore = () => Promise<OpenedStore>;

/** A fixed clock origin: stored times must come back to the millisecond. */
export const T0 = new Date('2026-03-01T12:00:00.123Z');
export const at = (offsetMs: number): Date => new Date(T0.getTime() + offsetMs);

/** A fresh store (file or schema) for the enclosing describe block, closed (and removed) afterwards. */
export function useFreshStore(makeStore: MakeStore): () => OpenedStore {
  let opened: OpenedStore | undefined;
  beforeAll(async () => {
    opened = await makeStore();
  });
  afterAll(async () => {
    await opened?.close();
  });
  return () => {
    if (opened === undefined) throw new Error('the store did not open (see the beforeAll failure)');
    return opened;
  };
}

export function newUser(overrides: Partial<NewUser> = {}): NewUser & { email: string } {
  const id = randomUUID();
  return {
    id,
    email: `User-${id}@Example.test`,
    passwordHash: '$argon2id$stub',
    roles: [],
    createdAt: T0,
    ...overrides,
  } as NewUser & { email: string };
}

/** Creates a user and fails the test unless it was created. */
export async function givenUser(
  store: Store,
  overrides: Partial<NewUser> = {},
): Promise<NewUser & { email: string }> {
  const user = newUser(overrides);
  expect(await store.createUser(user)).toEqual({ created: true });
  return user;
}

export function newCodeSet(size = 10, generatedAt = T0): NewRecoveryCodeSet {
  const id = randomUUID();
  const codes = Array.from({ length: size }, (_, slot) => ({ slot, digest: `$v1$${id}$${slot}` }));
  return { id, generatedAt, codes };
}

export function auditInput(overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    at: T0,
    action: 'recovery_code_used',
    outcome: 'success',
    userId: null,
    actorId: null,
    ip: '192.0.2.1',
    userAgent: 'contract-test',
    details: { slot: 3, remaining: 7, admin: false, note: null },
    ...overrides,
  };
}

/**
 * Starts `n` calls together behind a start barrier (ARCHITECTURE: "N concurrent consumers behind a start
 * barrier"): none begins its first query until every one of them exists, so they really overlap.
 */
export async function race<T>(n: number, call: (index: number) => Promise<T>): Promise<T[]> {
  let release!: () => void;
  const barrier = new Promise<void>((resolve) => {
    release = resolve;
  });
  const calls = Array.from({ length: n }, async (_, index) => {
    await barrier;
    return call(index);
  });
  release();
  return Promise.all(calls);
}

/** Asserts that events (oldest first) form one unbroken chain whose every hash recomputes. */
export function expectChainVerifies(events: readonly AuditEvent[], firstPrevHash?: string): void {
  events.forEach((event, index) => {
    const previous = events[index - 1];
    expect(event.chainSeq).not.toBeNull();
    if (previous !== undefined) {
      expect(event.chainSeq).toBe((previous.chainSeq ?? Number.NaN) + 1);
      expect(event.prevHash).toBe(previous.hash);
    } else if (firstPrevHash !== undefined) {
      expect(event.prevHash).toBe(firstPrevHash);
    }
    expect(event.hash).toBe(hashAuditEvent(event.prevHash ?? '', event.chainSeq ?? Number.NaN, event));
  });
}

/** Seals every committed event (as the server's sealer would), so the chain can be checked. */
export async function sealAll(store: Store): Promise<number> {
  let sealed = 0;
  for (;;) {
    const round = await store.sealAuditEvents({ holder: 'contract-test', leaseMs: 60_000, limit: 500 });
    if (round.role !== 'sealer') throw new Error('another holder has the sealer lease');
    sealed += round.sealed;
    if (round.sealed < 500) {
      await store.releaseAuditSealer('contract-test');
      return sealed;
    }
  }
}

/** Every stored event, sealed first (as the server's sealer would), in chain order. */
export async function allAuditEvents(store: Store): Promise<AuditEvent[]> {
  await sealAll(store);
  return store.listSealedAuditEvents({ limit: 10_000 });
}

export const count = (values: readonly boolean[]): number => values.filter(Boolean).length;
