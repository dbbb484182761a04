import type { AuditEventInput } from '../../core/audit.js';
import type { Store } from '../../store/store.js';
import type { RequestContext, ServiceDeps } from '../deps.js';

/**
 * Audit events an edge has decided on before the operation runs (an API key's `api_key_used`), carried to
 * the operation so they commit in the operation's own transaction, in the same INSERT as its events,
 * instead of costing a commit of their own (issue 25). An event leaves the carrier only once the
 * transaction that wrote it has committed (`written`); whatever is still carried when the answer is about
 * to be sent (the operation wrote nothing, or its transaction rolled back) is written then, before the
 * answer goes out (`writeCarriedAuditEvents`). So every carried event is committed exactly once and
 * before the caller hears anything, as it was when the edge wrote it up front.
 */
export class CarriedAuditEvents {
  #events: AuditEventInput[] = [];

  add(event: AuditEventInput): void {
    this.#events.push(event);
  }

  /** What is carried now (a copy): write these, then call `written` with them once that has committed. */
  pending(): AuditEventInput[] {
    return [...this.#events];
  }

  /** The transaction that wrote `events` has committed: they are no longer carried. */
  written(events: readonly AuditEventInput[]): void {
    this.#events = this.#events.filter((event) => !events.includes(event));
  }
}

/**
 * Appends `events`, with any the context carries before them, in one statement in `store` (a transaction,
 * or the store itself, where the one statement commits alone). Returns what to call once that has
 * committed: at once for the store itself, after the transaction resolves for a transaction.
 */
export async function appendWithCarried(
  store: Store,
  context: RequestContext,
  events: readonly AuditEventInput[],
): Promise<() => void> {
  const carried = context.carriedAudit?.pending() ?? [];
  if (carried.length === 0 && events.length === 1) await store.appendAuditEvent(events[0] as AuditEventInput);
  else await store.appendAuditEvents([...carried, ...events]);
  return () => context.carriedAudit?.written(carried);
}

/** Writes what is still carried (in one statement, committed alone); the edge calls this before answering. */
export async function writeCarriedAuditEvents(deps: ServiceDeps, carried: CarriedAuditEvents): Promise<void> {
  const events = carried.pending();
  if (events.length === 0) return;
  await deps.store.appendAuditEvents(events);
  carried.written(events);
}
