import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { auditActions } from '../../core/audit.js';
import { fail, ok, type Result } from '../../core/result.js';
import { type AuditFilter, describeChainBreak } from '../../service/audit/audit-log.js';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import type { UseCases } from '../../service/use-cases.js';
import { type AuditFilterForm, auditLogPage, auditVerifyPage } from '../pages/admin-audit-pages.js';
import {
  csrfToken,
  field,
  messageFor,
  redirect,
  requestContext,
  sendPage,
  statusFor,
} from '../web-context.js';
import { noticeFor, type WebOptions } from '../web-options.js';
import { adminOnly } from './admin-guard.js';
import { hasTotp, stepUpFailure } from './step-up.js';

const PAGE = 50;
const DAY_MS = 24 * 3600_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** A purge never takes the last 30 days: recent evidence is what an investigation needs. */
const MIN_RETENTION_DAYS = 30;

type Filter = AuditFilter;

/** Reads the filter form; an unknown user matches nothing rather than everything. */
async function parseFilter(
  useCases: UseCases,
  query: unknown,
): Promise<Result<{ form: AuditFilterForm; filter: Filter }, 'invalid_filter'>> {
  const raw = (query ?? {}) as Record<string, unknown>;
  const text = (name: string) =>
    typeof raw[name] === 'string' ? (raw[name] as string).trim().slice(0, 254) : '';
  const form = { user: text('user'), action: text('action'), from: text('from'), to: text('to') };
  const filter: Filter = {};
  if (form.action) {
    if (!(auditActions as readonly string[]).includes(form.action)) return fail('invalid_filter');
    filter.action = form.action;
  }
  for (const [name, value] of [
    ['from', form.from],
    ['to', form.to],
  ] as const) {
    if (!value) continue;
    const at = DATE.test(value) ? Date.parse(`${value}T00:00:00Z`) : Number.NaN;
    if (Number.isNaN(at)) return fail('invalid_filter');
    if (name === 'from') filter.since = new Date(at);
    else filter.until = new Date(at + DAY_MS);
  }
  if (filter.since && filter.until && filter.since >= filter.until) return fail('invalid_filter');
  if (form.user) {
    const user = await useCases.findUserByEmail(form.user);
    filter.userId = user?.id ?? '(no such user)';
  }
  return ok({ form, filter });
}

const filterQuery = (form: AuditFilterForm) => {
  const params = new URLSearchParams(Object.entries(form).filter(([, value]) => value !== ''));
  const text = params.toString();
  return text ? `?${text}` : '';
};

export function registerAuditRoutes(app: FastifyInstance, web: WebOptions): void {
  const { useCases } = web;

  const showLog = async (
    request: FastifyRequest,
    reply: FastifyReply,
    admin: ActiveSession,
    extra: { error?: Parameters<typeof messageFor>[0] } = {},
  ) => {
    const parsed = await parseFilter(useCases, request.query);
    const error = extra.error ?? (parsed.ok ? undefined : parsed.error);
    const form = parsed.ok ? parsed.value.form : { user: '', action: '', from: '', to: '' };
    const beforeText = String((request.query as { before?: unknown }).before ?? '');
    const beforeSeq = /^\d+$/.test(beforeText) ? Number(beforeText) : undefined;
    const { events, labels: emails } = parsed.ok
      ? await useCases.readAuditLog({ ...parsed.value.filter, beforeSeq, limit: PAGE + 1 })
      : { events: [], labels: new Map<string, string>() };
    const page = events.slice(0, PAGE);
    const last = page[page.length - 1];
    const query = filterQuery(form);
    return sendPage(request, reply, useCases, {
      title: 'Audit log',
      status: error ? statusFor(error) : 200,
      body: auditLogPage({
        csrf: csrfToken(request, reply),
        events: page,
        emails,
        filter: form,
        actions: auditActions,
        next:
          events.length > PAGE && last
            ? `/admin/audit${query ? `${query}&` : '?'}before=${last.seq}`
            : undefined,
        exportQuery: query,
        error: error && messageFor(error),
        notice: noticeFor(request.query),
        adminHasTotp: await hasTotp(useCases, admin.user.id),
      }),
    });
  };

  app.get(
    '/admin/audit',
    adminOnly(web, async (request, reply, admin) => showLog(request, reply, admin)),
  );

  for (const format of ['csv', 'jsonl'] as const) {
    app.get(
      `/admin/audit/export.${format}`,
      adminOnly(web, async (request, reply, admin) => {
        const parsed = await parseFilter(useCases, request.query);
        if (!parsed.ok) return showLog(request, reply, admin);
        const stamp = useCases.clock.now().toISOString().slice(0, 10);
        // Streamed page by page: memory stays flat however many events there are.
        return reply
          .header('cache-control', 'no-store')
          .header('content-disposition', `attachment; filename="sparekey-audit-${stamp}.${format}"`)
          .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/jsonl; charset=utf-8')
          .send(Readable.from(useCases.exportAuditLog(format, parsed.value.filter)));
      }),
    );
  }

  app.get(
    '/admin/audit/verify',
    adminOnly(web, async (request, reply) => {
      const result = await useCases.verifyAuditLog();
      return sendPage(request, reply, useCases, {
        title: 'Audit chain',
        status: 200,
        body: auditVerifyPage({
          result,
          message: result.firstBreak && describeChainBreak(result.firstBreak),
        }),
      });
    }),
  );

  app.post(
    '/admin/audit/purge',
    { preHandler: app.csrfProtection },
    adminOnly(web, async (request, reply, admin) => {
      const daysText = field(request, 'days', 8).trim();
      const days = /^\d+$/.test(daysText) ? Number(daysText) : Number.NaN;
      if (!(days >= MIN_RETENTION_DAYS && days <= 36500))
        return showLog(request, reply, admin, { error: 'invalid_filter' });
      const failure = await stepUpFailure(useCases, request, reply, admin);
      if (failure) return showLog(request, reply, admin, { error: failure });
      await useCases.purgeAuditLog({
        olderThanDays: days,
        context: { ...requestContext(request), actorId: admin.user.id },
      });
      return redirect(reply, '/admin/audit?notice=audit-purged');
    }),
  );
}
