import type { TestEnvironment } from '../helpers/service-deps.js';
import { stateSnapshot } from '../helpers/state-snapshot.js';
import type { World } from './authorization-world.js';

/**
 * What one request changed, comparable between two worlds: the rows it added to and removed from every
 * compared table (test/helpers/state-snapshot.ts), with the world's own identifiers named by role
 * (`<victim>`, `<other>`, `<admin>`, ...) and the values no two runs share (fresh UUIDs, hashes, tokens,
 * ciphertexts) masked. So "the same change" means: the same tables, the same number of rows, the same
 * accounts, roles, flags, scopes, settings and timestamps (the test clock stands still).
 */
export type StateChange = string[];

/**
 * Counts kept for the statistics, over every account in the database: they follow recovery_code_sets
 * (which is compared), but their values depend on the other worlds the same database holds.
 */
const DERIVED_TABLES = ['recovery_code_set_counts'];

function rowsByTable(snapshot: string): Map<string, string[]> {
  const tables = new Map<string, string[]>();
  for (const part of snapshot.split('\n\n')) {
    const colon = part.indexOf(': ');
    const table = part.slice(0, colon);
    const rows = part.slice(colon + 2);
    tables.set(table, rows === '' ? [] : rows.split('\n'));
  }
  return tables;
}

/** Rows of `from` not matched one-for-one in `minus` (a multiset difference). */
function missingFrom(from: readonly string[], minus: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const row of minus) left.set(row, (left.get(row) ?? 0) + 1);
  return from.filter((row) => {
    const count = left.get(row) ?? 0;
    if (count === 0) return true;
    left.set(row, count - 1);
    return false;
  });
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
/** A JSON string value that is one opaque token: a hash, a token, a ciphertext, a salted KDF output. */
const OPAQUE = /"[A-Za-z0-9_\-+/=$.:,]{20,}"/g;
/** Short random ids (an API key's public id is 12 hex digits). */
const HEX_ID = /\b(?=[0-9]*[a-f])[0-9a-f]{12,}\b/g;
/**
 * The same 12-character id when it happens to hold no letter (about 1 in 280): HEX_ID leaves bare digit
 * runs alone (they are times and counts), so this one is matched where an id stands, as a whole string
 * value or after `apikey:`.
 */
const DIGITS_ONLY_ID = /(?<=[":])[0-9]{12}(?=")/g;
const SLOT = /\["slot",\d+\]/g;
/** The counter shard a set is counted in follows from its owner's id, which differs from world to world. */
const COUNT_SHARD = /\["count_shard",\d+\]/g;
/** The world's accounts are `label-xxxxxxxx@example.test`. */
const WORLD_EMAIL = /\b([a-z]+)-[0-9a-f]{8}@example\.test/g;

export function normalize(text: string, world: World, named: Record<string, string> = {}): string {
  const roles: [string, string][] = [
    [world.victim.id, '<victim>'],
    [world.other.id, '<other>'],
    [world.admin.id, '<admin>'],
    [world.victim.factorId, '<factor>'],
    [world.victim.pendingFactorId, '<pending-factor>'],
    [world.victim.pendingEmailFactorId, '<pending-email-factor>'],
    [world.victim.deviceId, '<device>'],
    [world.spareKeyId, '<spare-key>'],
    ...Object.entries(named).map(([value, name]): [string, string] => [value, name]),
  ];
  let result = text;
  for (const [value, name] of roles) if (value) result = result.replaceAll(value, name);
  return (
    result
      .replace(WORLD_EMAIL, '$1-<n>@example.test')
      .replace(UUID, '<uuid>')
      .replace(OPAQUE, '"<opaque>"')
      .replace(HEX_ID, '<hex>')
      .replace(DIGITS_ONLY_ID, '<hex>')
      // A new code's slot is drawn at random (its place on the sheet), like its value.
      .replace(SLOT, '["slot","<n>"]')
      .replace(COUNT_SHARD, '["count_shard","<n>"]')
  );
}

export async function stateOf(env: TestEnvironment): Promise<Map<string, string[]>> {
  return rowsByTable(await stateSnapshot(env));
}

export function changeBetween(
  before: Map<string, string[]>,
  after: Map<string, string[]>,
  world: World,
  named: Record<string, string> = {},
): StateChange {
  const lines: string[] = [];
  for (const [table, rows] of after) {
    if (DERIVED_TABLES.includes(table)) continue;
    const earlier = before.get(table) ?? [];
    for (const row of missingFrom(earlier, rows)) lines.push(`${table} - ${normalize(row, world, named)}`);
    for (const row of missingFrom(rows, earlier)) lines.push(`${table} + ${normalize(row, world, named)}`);
  }
  return lines.sort();
}
