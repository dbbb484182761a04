import type { AuditQuery } from '../../store/store.js';
import type { ServiceDeps } from '../deps.js';
import { type ChainVerification, exportAuditEvents, verifyAuditChain } from './audit-log.js';

/** The audit export for an edge that holds use cases, not the store (the CLI): see exportAuditEvents. */
export function exportAuditLog(
  deps: Pick<ServiceDeps, 'store'>,
  format: 'csv' | 'jsonl',
  query: Omit<AuditQuery, 'limit' | 'beforeSeq'> = {},
): AsyncGenerator<string> {
  return exportAuditEvents(deps.store, format, query);
}

/** Seals what is committed and checks the hash chain: see verifyAuditChain. */
export function verifyAuditLog(deps: Pick<ServiceDeps, 'store'>): Promise<ChainVerification> {
  return verifyAuditChain(deps.store);
}
