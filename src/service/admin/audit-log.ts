import { type AuditEvent, hashAuditEvent } from '../../core/audit.js';
import type { AuditQuery, Store } from '../../store/store.js';
import { auditEvent } from '../audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';

export type ChainBreak =
  | { seq: number; problem: 'missing' }
  | { seq: number; problem: 'altered' }
  | { seq: number; problem: 'unlinked' };

export interface ChainVerification {
  ok: boolean;
  /** How many events were checked. */
  checked: number;
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

/**
 * Walks the hash chain from its anchor to its head and names the first broken link: an event whose
 * content no longer hashes to its stored hash (altered), one that does not link to its predecessor
 * (unlinked), or a seq that is not there (missing: a deleted row, or rows deleted at the end).
 */
export async function verifyAuditChain(store: Store): Promise<ChainVerification> {
  const head = await store.getAuditChainHead();
  let expectedSeq = Math.max(head.anchorSeq, 1);
  let expectedPrev = head.anchorHash;
  let checked = 0;
  const broken = (firstBreak: ChainBreak): ChainVerification => ({ ok: false, checked, firstBreak });
  for await (const event of auditEventsAscending(store)) {
    if (event.seq !== expectedSeq) return broken({ seq: expectedSeq, problem: 'missing' });
    if (hashAuditEvent(event.prevHash, event.seq, event) !== event.hash)
      return broken({ seq: event.seq, problem: 'altered' });
    if (event.prevHash !== expectedPrev) return broken({ seq: event.seq, problem: 'unlinked' });
    checked += 1;
    expectedSeq = event.seq + 1;
    expectedPrev = event.hash;
  }
  if (expectedSeq <= head.lastSeq) return broken({ seq: expectedSeq, problem: 'missing' });
  if (checked > 0 && expectedPrev !== head.lastHash) return broken({ seq: head.lastSeq, problem: 'altered' });
  return { ok: true, checked };
}

export function describeChainBreak(found: ChainBreak): string {
  if (found.problem === 'missing') return `Event #${found.seq} is missing: it was deleted.`;
  if (found.problem === 'altered')
    return `Event #${found.seq} was altered: its content no longer matches its hash.`;
  return `Event #${found.seq} does not link to the event before it: the chain was rewritten there.`;
}

/** The emails beside the ids, as the audit page shows them, so an export names people (issue 19.6). */
const CSV_COLUMNS = [
  'seq',
  'at',
  'action',
  'outcome',
  'user_id',
  'user_email',
  'actor_id',
  'actor_email',
  'ip',
  'user_agent',
  'details',
  'prev_hash',
  'hash',
];

function csvCell(value: string | number | null): string {
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
