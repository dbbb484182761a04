import type { NewRecoveryCodeSet } from '../../src/store/store.js';

/** What the parent asks one worker process to do, as its single JSON argument. */
export type RaceTask =
  | { path: string; op: 'consume'; userId: string; slots: number[] }
  | { path: string; op: 'replace'; userId: string; setIds: string[] }
  | { path: string; op: 'audit'; count: number }
  | { path: string; op: 'charge'; key: string; count: number };

/** Printed by a worker as its last stdout line: one entry per operation, in order. */
export interface RaceResult {
  results: boolean[];
}

export const READY = 'ready';
export const GO = 'go';

/** The same set on both sides of the process boundary, from its id alone. */
export function codeSetFor(id: string, size = 10): NewRecoveryCodeSet {
  const codes = Array.from({ length: size }, (_, slot) => ({ slot, digest: `$v1$${id}$${slot}` }));
  return { id, generatedAt: new Date(1_770_000_000_000), codes };
}
