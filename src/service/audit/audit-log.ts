import {
  AUDIT_GENESIS_HASH,
  type AuditEvent,
  hashAuditEvent,
  type SealedAuditEvent,
} from '../../core/audit.js';
import type { AuditQuery, Store } from '../../store/store.js';
import { accountLabel } from '../accounts/account-label.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { auditEvent } from './audit.js';
import { sealCommittedEvents } from './audit-sealer.js';

export type { AuditEvent, AuditQuery };
/** An export's or a listing's filter: who, what, and a time window. */
export type AuditFilter = Omit<AuditQuery, 'limit' | 'beforeSeq'>;

/**
 * The first broken link. `chainSeq` is the place in the chain; `seq` the event's own number when the
 * event is there to name: missing (a deleted row: the place is empty), altered (its content no longer
 * hashes to its hash), moved (it hashes correctly only at another place: events were reordered, and
 * `movedFrom` is where it was sealed), or unlinked (it does not link to its predecessor).
 */
export type ChainBreak =
  | { problem: 'missing'; chainSeq: number; after?: number }
  | { problem: 'altered' | 'unlinked'; chainSeq: number; seq: number }
  | { problem: 'moved'; chainSeq: number; seq: number; movedFrom: number };

export interface ChainVerification {
  ok: boolean;
  /** How many sealed events were checked. */
  checked: number;
  /** Events committed but not yet sealed when the verification ended (not part of the check). */
  unsealed: number;
  /** The first broken link, oldest first; absent when the chain verifies. */
  firstBreak?: ChainBreak;
}

const PAGE = 1000;

/** Every event matching `query`, oldest first, read in pages by seq (constant memory at any size). */
export async function* auditEventsAscending(
  store: Store,
  query: Omit<AuditQuery, 'limit' | 'beforeSeq'> = {},
) {
  let afterSeq: number | undefined;
  for (;;) {
    const page = await store.listAuditEventsAscending({ ...query, afterSeq, limit: PAGE });
    yield* page;
    if (page.length < PAGE) return;
    afterSeq = page[page.length - 1]?.seq;
  }
}

/** Sealed events in chain order, in pages (constant memory at any size). */
async function* sealedEventsInChainOrder(store: Store) {
  let afterChainSeq: number | undefined;
  for (;;) {
    const page = await store.listSealedAuditEvents({ afterChainSeq, limit: PAGE });
    yield* page;
    if (page.length < PAGE) return;
    afterChainSeq = page[page.length - 1]?.chainSeq;
  }
}

/** How far from its place a moved event is looked for (each try is one SHA-256). */
const MOVED_SEARCH_WINDOW = 4096;

/**
 * Where an event that does not hash at its place was sealed, if it hashes correctly somewhere: right
 * after the event its `prevHash` names (wherever that one stands now), or within MOVED_SEARCH_WINDOW
 * places of where it is (both of two swapped events have moved, so the neighbour may mislead).
 */
async function placeSealedAt(store: Store, event: SealedAuditEvent): Promise<number | undefined> {
  const hashesAt = (place: number) =>
    place > 0 && place !== event.chainSeq && hashAuditEvent(event.prevHash, place, event) === event.hash;
  const before =
    event.prevHash === AUDIT_GENESIS_HASH ? 0 : await store.findAuditChainSeqByHash(event.prevHash);
  if (before !== undefined && hashesAt(before + 1)) return before + 1;
  for (let distance = 1; distance <= MOVED_SEARCH_WINDOW; distance += 1) {
    if (hashesAt(event.chainSeq - distance)) return event.chainSeq - distance;
    if (hashesAt(event.chainSeq + distance)) return event.chainSeq + distance;
  }
  return undefined;
}

/**
 * Seals what was committed before the call (see sealCommittedEvents), then walks the hash chain from its
 * anchor to its head and names the first broken link: an event whose content no longer hashes to its
 * stored hash (altered) or hashes only at another place (moved), one that does not link to its
 * predecessor (unlinked), or a chain place with no event (missing: a deleted row, or rows deleted at
 * the end).
 */
export async function verifyAuditChain(store: Store): Promise<ChainVerification> {
  await sealCommittedEvents(store);
  const head = await store.getAuditChainHead();
  let expectedChainSeq = Math.max(head.anchorSeq, 1);
  let expectedPrev = head.anchorHash;
  let previousSeq: number | undefined;
  let checked = 0;
  const broken = async (firstBreak: ChainBreak): Promise<ChainVerification> => ({
    ok: false,
    checked,
    unsealed: (await store.getAuditSealingState()).unsealed,
    firstBreak,
  });
  for await (const event of sealedEventsInChainOrder(store)) {
    if (event.chainSeq !== expectedChainSeq)
      return broken({ problem: 'missing', chainSeq: expectedChainSeq, after: previousSeq });
    if (hashAuditEvent(event.prevHash, event.chainSeq, event) !== event.hash) {
      const movedFrom = await placeSealedAt(store, event);
      return broken(
        movedFrom === undefined
          ? { problem: 'altered', chainSeq: event.chainSeq, seq: event.seq }
          : { problem: 'moved', chainSeq: event.chainSeq, seq: event.seq, movedFrom },
      );
    }
    if (event.prevHash !== expectedPrev)
      return broken({ problem: 'unlinked', chainSeq: event.chainSeq, seq: event.seq });
    checked += 1;
    expectedChainSeq = event.chainSeq + 1;
    expectedPrev = event.hash;
    previousSeq = event.seq;
  }
  if (expectedChainSeq <= head.lastSeq)
    return broken({ problem: 'missing', chainSeq: expectedChainSeq, after: previousSeq });
  if (checked > 0 && expectedPrev !== head.lastHash)
    return broken({ problem: 'unlinked', chainSeq: head.lastSeq, seq: previousSeq ?? head.lastSeq });
  return { ok: true, checked, unsealed: (await store.getAuditSealingState()).unsealed };
}

export function describeChainBreak(found: ChainBreak): string {
  const place = `chain place ${found.chainSeq}`;
  if (found.problem === 'missing')
    return `The event at ${place} is missing: it was deleted${found.after === undefined ? '' : ` (it came after event #${found.after})`}.`;
  if (found.problem === 'altered')
    return `Event #${found.seq} was altered: its content no longer matches its hash (${place}).`;
  if (found.problem === 'moved')
    return `Event #${found.seq} was moved: it was sealed at chain place ${found.movedFrom} and now stands at ${found.chainSeq} (events were reordered).`;
  return `Event #${found.seq} does not link to the event before it: the chain was rewritten there (${place}).`;
}

/**
 * The emails beside the ids, as the audit page shows them, so an export names people (issue 19.6). The
 * columns (and JSON Lines keys) are spelled as the JSON API's audit events spell them (camelCase), so a
 * reader of both sees one vocabulary.
 */
const CSV_COLUMNS = [
  'seq',
  'at',
  'action',
  'outcome',
  'userId',
  'userEmail',
  'actorId',
  'actorEmail',
  'ip',
  'userAgent',
  'details',
  'prevHash',
  'hash',
  // The event's place in the hash chain, and whether the sealer has linked it yet (false: committed, not
  // yet sealed; its chain place and hashes are empty).
  'chainSeq',
  'sealed',
];

function csvCell(value: string | number | boolean | null): string {
  const text = value === null ? '' : String(value);
  // Quote everything that could break a row or start a formula in a spreadsheet (CSV injection).
  const guarded = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n']/.test(guarded) || guarded !== text ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}

function row(event: AuditEvent, emailOf: (id: string | null) => string | null) {
  return [
    event.seq,
    event.at.toISOString(),
    event.action,
    event.outcome,
    event.userId,
    emailOf(event.userId),
    event.actorId,
    emailOf(event.actorId),
    event.ip,
    event.userAgent,
    JSON.stringify(event.details),
    event.prevHash,
    event.hash,
    event.chainSeq,
    event.chainSeq !== null,
  ] as const;
}

/** Lines per yielded chunk; the emails of a chunk's people are looked up once per chunk. */
const CHUNK = 500;
/** Emails remembered across chunks (most exports name few people); past this, the memory starts over. */
const EMAIL_CACHE_LIMIT = 10_000;

/**
 * The export as text chunks (a header, then a line per event), for a streamed response. Each event names
 * its user and actor by id and by their current email (empty for a deleted account), like the audit page.
 */
export async function* exportAuditEvents(
  store: Store,
  format: 'csv' | 'jsonl',
  query: Omit<AuditQuery, 'limit' | 'beforeSeq'> = {},
): AsyncGenerator<string> {
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
  const emails = new Map<string, string | null>();
  const emailOf = (id: string | null) => (id === null ? null : (emails.get(id) ?? null));
  const render = async (events: AuditEvent[]) => {
    if (emails.size > EMAIL_CACHE_LIMIT) emails.clear();
    const unknown = [...new Set(events.flatMap((event) => [event.userId, event.actorId]))].filter(
      (id): id is string => id !== null && !emails.has(id),
    );
    const users = await Promise.all(unknown.map((id) => store.findUserById(id)));
    for (const [index, id] of unknown.entries()) emails.set(id, users[index]?.email ?? null);
    return events
      .map((event) => {
        const values = row(event, emailOf);
        return format === 'csv'
          ? `${values.map(csvCell).join(',')}\r\n`
          : `${JSON.stringify(Object.fromEntries(CSV_COLUMNS.map((column, index) => [column, values[index]])))}\n`;
      })
      .join('');
  };
  let events: AuditEvent[] = [];
  for await (const event of auditEventsAscending(store, query)) {
    events.push(event);
    if (events.length === CHUNK) {
      yield await render(events);
      events = [];
    }
  }
  if (events.length > 0) yield await render(events);
}

/** Retention: deletes events older than `days` days, keeping the rest verifiable (the chain is re-anchored). */
export async function purgeAuditLog(
  deps: ServiceDeps,
  input: { olderThanDays: number; context: RequestContext },
): Promise<{ purged: number }> {
  const now = deps.clock.now();
  const before = new Date(now.getTime() - input.olderThanDays * 24 * 3600_000);
  const result = await deps.store.purgeAuditEventsBefore(before);
  // Recorded after the purge, so the record itself is kept.
  await deps.store.appendAuditEvent(
    auditEvent(now, 'audit_purged', 'success', null, input.context, {
      olderThanDays: input.olderThanDays,
      before: before.toISOString(),
      purged: result.purged,
    }),
  );
  return result;
}

/** A page of the audit log, newest first (keyset pagination by `beforeSeq`). */
export function listAuditEvents(deps: ServiceDeps, query: AuditQuery): Promise<AuditEvent[]> {
  return deps.store.listAuditEvents(query);
}

/**
 * A page of the audit log, newest first, with the accounts its events name (user and actor) labelled as
 * the audit page shows them; an id with no account (deleted, or an API key) has no label.
 */
export async function readAuditLog(
  deps: ServiceDeps,
  query: AuditQuery,
): Promise<{ events: AuditEvent[]; labels: Map<string, string> }> {
  const events = await listAuditEvents(deps, query);
  const ids = [
    ...new Set(events.flatMap((event) => [event.userId, event.actorId]).filter((id) => id !== null)),
  ];
  const users = await Promise.all(ids.map((id) => deps.store.findUserById(id)));
  const labels = new Map(
    users.filter((user) => user !== undefined).map((user) => [user.id, accountLabel(user)]),
  );
  return { events, labels };
}

/** The export of the log (CSV or JSON lines) as text chunks, for the edges (see exportAuditEvents). */
export function exportAuditLog(
  deps: ServiceDeps,
  format: 'csv' | 'jsonl',
  filter: AuditFilter = {},
): AsyncGenerator<string> {
  return exportAuditEvents(deps.store, format, filter);
}

/** The chain verification, for the edges (see verifyAuditChain). */
export function verifyAuditLog(deps: ServiceDeps): Promise<ChainVerification> {
  return verifyAuditChain(deps.store);
}
