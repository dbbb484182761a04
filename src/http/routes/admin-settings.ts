import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { RecoveryCodeSettings } from '../../core/policy.js';
import type { UseCases } from '../../service/use-cases.js';
import { apiContext, sendApiError } from '../api-replies.js';
import {
  Settings,
  SettingsChange,
  Statistics,
  UsersWithCodesPage,
  UsersWithCodesQuery,
} from '../schemas/admin-settings.js';
import { answer, errors } from '../schemas/common.js';
import { settingsUpdateFrom } from '../settings-update.js';

/**
 * The operator's overview over HTTP: statistics, the recovery-code settings, and the users holding codes (the
 * report beside the statistics, read with `recovery_codes:read`).
 */
export function registerAdminSettingsRoutes(parent: FastifyInstance, useCases: UseCases): void {
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
          200: answer('The recovery-code statistics', Statistics),
          ...errors(),
        },
      },
    },
    async function getStatistics() {
      return useCases.getRecoveryCodeStatistics();
    },
  );

  app.get(
    '/settings',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'getSettings',
        summary: 'The recovery-code settings',
        tags: ['admin'],
        response: { 200: answer('The current settings', Settings), ...errors() },
      },
    },
    async function getSettings() {
      return mutable(await useCases.getRecoveryCodeSettings());
    },
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
        response: { 200: answer('Saved: the settings as they are now', Settings), ...errors(422) },
      },
    },
    async function updateSettings(request, reply) {
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
        querystring: UsersWithCodesQuery,
        response: {
          200: answer('A page of users with codes, by email', UsersWithCodesPage),
          ...errors(),
        },
      },
    },
    async function listUsersWithCodes(request) {
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
}

/** The schema's arrays are mutable; the settings' are read-only. */
function mutable(settings: RecoveryCodeSettings) {
  return {
    ...settings,
    allowedRoles: [...settings.allowedRoles],
    mfaRequiredRoles: [...settings.mfaRequiredRoles],
  };
}
