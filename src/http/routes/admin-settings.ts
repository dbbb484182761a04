import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { apiKeyScopes } from '../../core/api-key.js';
import { auditActions } from '../../core/audit.js';
import type { RecoveryCodeSettings } from '../../core/policy.js';
import { describeChainBreak } from '../../service/audit/audit-log.js';
import type { UseCases } from '../../service/use-cases.js';
import { apiContext, sendApiError } from '../api-replies.js';
import { errors } from '../schemas/common.js';
import { settingsUpdateFrom } from '../settings-update.js';

/** Role names as the admin pages make them (core/policy.ts ROLE_NAME): short, and not too many. */
const RoleNames = Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 100 });
/**
 * Loose bounds that stop absurd input at the edge; the exact rules (a slot length of 1 or 2, a threshold
 * below the set size, ...) are the service's, answered with 422 and every problem listed.
 */
const Count = Type.Integer({ minimum: 0, maximum: 10_000 });

const Settings = Type.Object({
  enabled: Type.Boolean(),
  allowedRoles: RoleNames,
  codesPerSet: Count,
  format: Type.Object({
    slotLength: Count,
    secretLength: Count,
    groupSize: Count,
  }),
  lowThreshold: Count,
  policy: Type.Union([Type.Literal('continue'), Type.Literal('disable_mfa'), Type.Literal('rotate')]),
  mfaRequiredRoles: RoleNames,
});

/**
 * A settings change names only the settings it changes, the format's parts included, and nothing else:
 * an unknown key is a 400 (issue 18, point 5: unknown keys were stored and the row grew without bound).
 */
const SettingsChange = Type.Partial(
  Type.Object({ ...Settings.properties, format: Type.Partial(Settings.properties.format) }),
);

const AuditEvent = Type.Object({
  seq: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  action: Type.String(),
  outcome: Type.String(),
  userId: Type.Union([Type.String(), Type.Null()]),
  actorId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  /** False while the event is committed but not yet linked into the hash chain by the sealer. */
  sealed: Type.Boolean(),
  chainSeq: Type.Union([Type.Integer(), Type.Null()]),
  prevHash: Type.Union([Type.String(), Type.Null()]),
  hash: Type.Union([Type.String(), Type.Null()]),
});

const AuditFilter = Type.Object({
  userId: Type.Optional(Type.String({ maxLength: 64 })),
  action: Type.Optional(Type.String({ enum: [...auditActions] })),
  since: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
  until: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
});

const toFilter = (query: { userId?: string; action?: string; since?: string; until?: string }) => ({
  userId: query.userId,
  action: query.action,
  since: query.since ? new Date(query.since) : undefined,
  until: query.until ? new Date(query.until) : undefined,
});

/** The operator's features over HTTP: settings, statistics, users with codes, the audit log, keys, users. */
export function registerAdminApiRoutes(parent: FastifyInstance, useCases: UseCases): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/statistics',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'getStatistics',
        summary: 'Users with codes, low on codes, used today and this month, and the last 30 days',
        tags: ['admin'],
        response: {
          200: Type.Object({
            usersWithCodes: Type.Integer(),
            lowOnCodes: Type.Integer(),
            lowThreshold: Type.Integer(),
            usedToday: Type.Integer(),
            usedThisMonth: Type.Integer(),
            failedToday: Type.Integer(),
            timeZone: Type.String(),
            last30Days: Type.Array(
              Type.Object({ date: Type.String(), used: Type.Integer(), failed: Type.Integer() }),
            ),
            factorsByKind: Type.Array(
              Type.Object({
                kind: Type.Union([Type.Literal('totp'), Type.Literal('email'), Type.Literal('webauthn')]),
                factors: Type.Integer({ description: 'Confirmed factors of this kind' }),
                users: Type.Integer({ description: 'Users with at least one' }),
              }),
            ),
          }),
          ...errors(),
        },
      },
    },
    async () => useCases.getRecoveryCodeStatistics(),
  );

  app.get(
    '/settings',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'getSettings',
        summary: 'The recovery-code settings',
        tags: ['admin'],
        response: { 200: Settings, ...errors() },
      },
    },
    async () => mutable(await useCases.getRecoveryCodeSettings()),
  );

  app.patch(
    '/settings',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'updateSettings',
        summary: 'Change some recovery-code settings; the change is audited with before and after',
        tags: ['admin'],
        body: SettingsChange,
        response: { 200: Settings, ...errors(422) },
      },
    },
    async (request, reply) => {
      // The schema admits slot lengths 1 and 2 only; TypeBox infers the union as number.
      const saved = await useCases.updateRecoveryCodeSettings(
        settingsUpdateFrom(request.body),
        apiContext(request),
      );
      if (!saved.ok) return sendApiError(reply, 'invalid_settings', 422, (saved.problems ?? []).join(' '));
      return mutable(saved.value);
    },
  );

  app.get(
    '/users-with-codes',
    {
      config: { scope: 'recovery_codes:read' },
      schema: {
        operationId: 'listUsersWithCodes',
        summary: 'Users with a recovery-code set, by email; pass the last email as `after` for the next page',
        tags: ['admin'],
        querystring: Type.Object({
          emailPrefix: Type.Optional(Type.String({ maxLength: 254 })),
          after: Type.Optional(Type.String({ maxLength: 254 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
        }),
        response: {
          200: Type.Object({
            users: Type.Array(
              Type.Object({
                id: Type.String(),
                email: Type.String(),
                roles: Type.Array(Type.String()),
                total: Type.Integer(),
                remaining: Type.Integer(),
                generatedAt: Type.String(),
                lastUsedAt: Type.Union([Type.String(), Type.Null()]),
              }),
            ),
            next: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors(),
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const rows = await useCases.listUsersWithCodes({
        emailPrefix: request.query.emailPrefix,
        after: request.query.after ? { email: request.query.after, id: '' } : undefined,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      return {
        users: page.map((row) => ({
          ...row,
          generatedAt: row.generatedAt.toISOString(),
          lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
        })),
        next: rows.length > limit ? (page[page.length - 1]?.email ?? null) : null,
      };
    },
  );

  app.get(
    '/audit-events',
    {
      config: { scope: 'audit:read' },
      schema: {
        operationId: 'listAuditEvents',
        summary: 'Audit events, newest first; pass the last seq as `beforeSeq` for older ones',
        tags: ['audit'],
        querystring: Type.Object({
          ...AuditFilter.properties,
          beforeSeq: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: { 200: Type.Object({ events: Type.Array(AuditEvent) }), ...errors() },
      },
    },
    async (request) => {
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
        querystring: Type.Object({
          ...AuditFilter.properties,
          format: Type.Union([Type.Literal('csv'), Type.Literal('jsonl')]),
        }),
        response: { 200: { description: 'text/csv or application/jsonl', type: 'string' }, ...errors() },
      },
    },
    async (request, reply) =>
      reply
        .type(request.query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/jsonl; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(Readable.from(useCases.exportAuditLog(request.query.format, toFilter(request.query))) as never),
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
          200: Type.Object({
            ok: Type.Boolean(),
            checked: Type.Integer(),
            /** Events committed but not yet sealed when the walk ended (not part of it). */
            unsealed: Type.Integer(),
            firstBreak: Type.Optional(
              Type.Object({
                problem: Type.String(),
                chainSeq: Type.Integer(),
                seq: Type.Optional(Type.Integer()),
                after: Type.Optional(Type.Integer()),
                movedFrom: Type.Optional(Type.Integer()),
                message: Type.String(),
              }),
            ),
          }),
          ...errors(),
        },
      },
    },
    async () => {
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

  app.post(
    '/api-keys',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'createApiKey',
        summary: 'Create an API key; the key is in this response only',
        tags: ['api keys'],
        body: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 80 }),
          scopes: Type.Array(Type.String({ enum: [...apiKeyScopes] }), {
            minItems: 1,
            maxItems: apiKeyScopes.length,
          }),
        }),
        response: {
          201: Type.Object({ id: Type.String(), key: Type.String(), scopes: Type.Array(Type.String()) }),
          ...errors(),
        },
      },
    },
    async (request, reply) => {
      const created = await useCases.createApiKey({
        name: request.body.name,
        scopes: request.body.scopes,
        context: apiContext(request),
      });
      if (!created.ok) return sendApiError(reply, created.error);
      return reply.code(201).header('cache-control', 'no-store').send(created.value);
    },
  );

  app.delete(
    '/api-keys/:keyId',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key at once',
        tags: ['api keys'],
        params: Type.Object({ keyId: Type.String({ maxLength: 64 }) }),
        response: { 204: { type: 'null', description: 'Revoked' }, ...errors(404) },
      },
    },
    async (request, reply) => {
      const revoked = await useCases.revokeApiKey({ id: request.params.keyId, context: apiContext(request) });
      return revoked.ok ? reply.code(204).send(null) : sendApiError(reply, revoked.error);
    },
  );

  app.post(
    '/users',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'createUser',
        summary: 'Create an account with a password (the same rules as sign-up)',
        tags: ['users'],
        body: Type.Object({
          email: Type.String({ maxLength: 254 }),
          password: Type.String({ maxLength: 1024 }),
          roles: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 100 })),
        }),
        response: { 201: Type.Object({ userId: Type.String() }), ...errors(409) },
      },
    },
    async (request, reply) => {
      // An administrator's call (the `admin` scope): the one route where roles may be chosen.
      const created = await useCases.createUser({
        email: request.body.email,
        password: request.body.password,
        roles: request.body.roles,
        context: apiContext(request),
      });
      if (!created.ok) return sendApiError(reply, created.error);
      return reply.code(201).send(created.value);
    },
  );

  app.get(
    '/users/by-email/:email',
    {
      config: { scope: 'recovery_codes:read' },
      schema: {
        operationId: 'findUserByEmail',
        summary: 'Look up an account by email address',
        tags: ['users'],
        params: Type.Object({ email: Type.String({ maxLength: 254 }) }),
        response: {
          200: Type.Object({
            id: Type.String(),
            email: Type.String(),
            roles: Type.Array(Type.String()),
            createdAt: Type.String(),
          }),
          ...errors(404),
        },
      },
    },
    async (request, reply) => {
      const user = await useCases.findUserByEmail(request.params.email);
      if (!user) return sendApiError(reply, 'user_not_found');
      return {
        id: user.id,
        email: user.email ?? request.params.email,
        roles: user.roles,
        createdAt: user.createdAt.toISOString(),
      };
    },
  );
}

/** The schema's arrays are mutable; the settings' are read-only. */
function mutable(settings: RecoveryCodeSettings) {
  return {
    ...settings,
    allowedRoles: [...settings.allowedRoles],
    mfaRequiredRoles: [...settings.mfaRequiredRoles],
  };
}
