/**
 * Counters kept for the statistics in the transaction of every change (exact, cheap to read) are spread
 * over this many rows per value, by the id of the user the change is about. On PostgreSQL each change
 * holds its counter row's lock to commit; with one row per value, every user's transaction queued behind
 * every other user's (issue 25). Spread by user, two unrelated users meet on a row 1 time in 128. Reads
 * sum the shards (decision 0011).
 */
export const COUNTER_SHARDS = 128;

/** The shard a user's changes are counted in: FNV-1a of the id, so it is fixed and spread whatever the id's form. */
export function counterShardOf(userId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % COUNTER_SHARDS;
}
