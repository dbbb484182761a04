import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { describeChainBreak } from '../../service/audit/audit-log.js';
import type { UseCases } from '../../service/use-cases.js';
import {
  AuditEventPage,
  AuditEventsQuery,
  AuditExport,
  AuditExportQuery,
  AuditVerification,
} from '../schemas/admin-audit.js';
import { answer, errors } from '../schemas/common.js';

/** The audit log's filter as the service takes it: dates parsed, absent fields left out. */
const toFilter = (query: { userId?: string; action?: string; since?: string; until?: string }) => ({
  userId: query.userId,
  action: query.action,
  since: query.since ? new Date(query.since) : undefined,
  until: query.until ? new Date(query.until) : undefined,
});

/** The audit log over HTTP: read, export, verify the hash chain (`audit:read`). */
export function registerAdminAuditRoutes(parent: FastifyInstance, useCases: UseCases): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/audit-events',
    {
      config: { scope: 'audit:read' },
      schema: {
        operationId: 'listAuditEvents',
        summary: 'Audit events, newest first; pass the last seq as `beforeSeq` for older ones',
        tags: ['audit'],
        querystring: AuditEventsQuery,
        response: { 200: answer('A page of events, newest first', AuditEventPage), ...errors() },
      },
    },
    async function listAuditEvents(request) {
      const events = await useCases.listAuditEvents({
        ...toFilter(request.query),
        beforeSeq: request.query.beforeSeq,
        limit: request.query.limit ?? 100,
      });
      return {
        events: events.map((event) => ({
          ...event,
          at: event.at.toISOString(),
          sealed: event.chainSeq !== null,
        })),
      };
    },
  );

  app.get(
    '/audit-events/export',
    {
      config: { scope: 'audit:read' },
      schema: {
        operationId: 'exportAuditEvents',
        summary: 'Every matching event, oldest first, streamed as CSV or JSON Lines',
        tags: ['audit'],
        querystring: AuditExportQuery,
        response: { 200: AuditExport, ...errors() },
      },
    },
    async function exportAuditEvents(request, reply) {
      return reply
        .type(request.query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/jsonl; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(Readable.from(useCases.exportAuditLog(request.query.format, toFilter(request.query))) as never);
    },
  );

  app.get(
    '/audit-events/verification',
    {
      config: { scope: 'audit:read' },
      schema: {
        operationId: 'verifyAuditChain',
        summary:
          'Seal what is committed, then walk the hash chain and name the first altered, moved, unlinked or deleted event',
        tags: ['audit'],
        response: {
          200: answer('What the walk found: `ok`, or the first break', AuditVerification),
          ...errors(),
        },
      },
    },
    async function verifyAuditChain() {
      const { ok, checked, unsealed, firstBreak } = await useCases.verifyAuditLog();
      if (!firstBreak) return { ok, checked, unsealed };
      return {
        ok,
        checked,
        unsealed,
        firstBreak: { ...firstBreak, message: describeChainBreak(firstBreak) },
      };
    },
  );
}
