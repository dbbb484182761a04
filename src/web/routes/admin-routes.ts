import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiKeyScopes } from '../../core/api-key.js';
import { builtInRoles, type RecoveryCodeSettings } from '../../core/policy.js';
import { accountLabel } from '../../service/accounts/account-label.js';
import { MAX_RESET_REASON_LENGTH } from '../../service/admin/reset-mfa.js';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import {
  adminSettingsPage,
  adminUserPage,
  apiKeysPage,
  dashboardPage,
  rolesPage,
  usersWithCodesPage,
} from '../pages/admin-pages.js';
import {
  csrfToken,
  field,
  fields,
  messageFor,
  redirect,
  requestContext,
  sendMessagePage,
  sendPage,
  statusFor,
} from '../web-context.js';
import { noticeFor, type WebOptions } from '../web-options.js';
import { registerAccessRulesRoutes } from './admin-access-rules-routes.js';
import { registerAuditRoutes } from './admin-audit-routes.js';
import { adminOnly } from './admin-guard.js';
import { registerWebhookRoutes } from './admin-webhook-routes.js';
import { hasTotp, stepUpFailure } from './step-up.js';

const USERS_PAGE = 50;

export function registerAdminRoutes(app: FastifyInstance, web: WebOptions): void {
  const { useCases } = web;
  const csrf = { preHandler: app.csrfProtection };

  app.get(
    '/admin',
    adminOnly(web, async (request, reply) => {
      const [stats, settings] = await Promise.all([
        useCases.getRecoveryCodeStatistics(),
        useCases.getRecoveryCodeSettings(),
      ]);
      return sendPage(request, reply, useCases, {
        title: 'Administration',
        body: dashboardPage({ stats, enabled: settings.enabled }),
      });
    }),
  );

  const showSettings = async (
    request: FastifyRequest,
    reply: FastifyReply,
    settings: RecoveryCodeSettings,
    extra: { problems?: string[]; notice?: string } = {},
  ) =>
    sendPage(request, reply, useCases, {
      title: 'Recovery-code settings',
      status: extra.problems?.length ? statusFor('invalid_settings') : 200,
      body: adminSettingsPage({
        csrf: csrfToken(request, reply),
        settings,
        roles: await useCases.listRoles(),
        problems: extra.problems,
        notice: extra.notice ?? noticeFor(request.query),
      }),
    });

  app.get(
    '/admin/settings',
    adminOnly(web, async (request, reply) =>
      showSettings(request, reply, await useCases.getRecoveryCodeSettings()),
    ),
  );

  app.post(
    '/admin/settings',
    csrf,
    adminOnly(web, async (request, reply, admin) => {
      const current = await useCases.getRecoveryCodeSettings();
      const roles = await useCases.listRoles();
      const number = (name: string) => {
        const text = field(request, name, 16).trim();
        return /^\d+$/.test(text) ? Number(text) : Number.NaN;
      };
      const policy = field(request, 'policy', 32);
      const submitted: RecoveryCodeSettings = {
        enabled: field(request, 'enabled', 8) === 'on',
        allowedRoles: fields(request, 'allowedRoles').filter((role) => roles.includes(role)),
        codesPerSet: number('codesPerSet'),
        format: {
          slotLength: number('slotLength') as 1 | 2,
          secretLength: number('secretLength'),
          groupSize: number('groupSize'),
        },
        lowThreshold: number('lowThreshold'),
        policy: (policy || current.policy) as RecoveryCodeSettings['policy'],
        mfaRequiredRoles: fields(request, 'mfaRequiredRoles').filter((role) => roles.includes(role)),
      };
      // Without JavaScript, "Select all" / "Remove all" post the form: show the choice, save nothing yet.
      const bulk = field(request, 'bulk', 8);
      if (bulk === 'all' || bulk === 'none') {
        return showSettings(
          request,
          reply,
          { ...submitted, allowedRoles: bulk === 'all' ? roles : [] },
          {
            notice: 'Not saved yet: choose Save changes to keep this.',
          },
        );
      }
      const saved = await useCases.updateRecoveryCodeSettings(submitted, {
        ...requestContext(request),
        actorId: admin.user.id,
      });
      if (!saved.ok)
        return showSettings(request, reply, submitted, {
          problems: saved.problems ?? [messageFor('invalid_settings')],
        });
      const notice = saved.lowered ? 'settings-saved-threshold-lowered' : 'settings-saved';
      return redirect(reply, `/admin/settings?notice=${notice}`);
    }),
  );

  app.get(
    '/admin/users',
    adminOnly(web, async (request, reply) => {
      const query = request.query as { q?: unknown; after?: unknown; id?: unknown };
      const search = typeof query.q === 'string' ? query.q.trim().slice(0, 254) : '';
      const after =
        typeof query.after === 'string' && typeof query.id === 'string'
          ? { email: query.after, id: query.id }
          : undefined;
      const rows = await useCases.listUsersWithCodes({
        emailPrefix: search || undefined,
        after,
        limit: USERS_PAGE + 1,
      });
      const page = rows.slice(0, USERS_PAGE);
      const last = page[page.length - 1];
      const next =
        rows.length > USERS_PAGE && last
          ? `/admin/users?${new URLSearchParams({ ...(search ? { q: search } : {}), after: last.email, id: last.id })}`
          : undefined;
      return sendPage(request, reply, useCases, {
        title: 'Users with backup codes',
        body: usersWithCodesPage({ rows: page, search, next, csrf: csrfToken(request, reply) }),
      });
    }),
  );

  app.get(
    '/admin/accounts',
    adminOnly(web, async (request, reply) => {
      const email = String((request.query as { email?: unknown }).email ?? '').slice(0, 254);
      const user = email ? await useCases.findUserByEmail(email) : undefined;
      if (!user)
        return sendMessagePage(request, reply, useCases, {
          code: 'user_not_found',
          link: { href: '/admin/users', text: 'Back to users' },
        });
      return redirect(reply, `/admin/users/${user.id}`);
    }),
  );

  const showUser = async (
    request: FastifyRequest,
    reply: FastifyReply,
    admin: ActiveSession,
    userId: string,
    extra: { error?: Parameters<typeof messageFor>[0]; notice?: string } = {},
  ) => {
    const user = await useCases.findUserById(userId);
    if (!user)
      return sendMessagePage(request, reply, useCases, {
        code: 'user_not_found',
        link: { href: '/admin/users', text: 'Back to users' },
      });
    return sendPage(request, reply, useCases, {
      title: accountLabel(user),
      status: extra.error ? statusFor(extra.error) : 200,
      body: adminUserPage({
        csrf: csrfToken(request, reply),
        user,
        overview: await useCases.getMfaOverview({ userId: user.id }),
        roles: await useCases.listRoles(),
        error: extra.error && messageFor(extra.error),
        notice: extra.notice ?? noticeFor(request.query),
        adminHasTotp: await hasTotp(useCases, admin.user.id),
      }),
    });
  };

  const userIdOf = (request: FastifyRequest) => (request.params as { userId: string }).userId;

  app.get(
    '/admin/users/:userId',
    adminOnly(web, async (request, reply, admin) => showUser(request, reply, admin, userIdOf(request))),
  );

  app.post(
    '/admin/users/:userId/roles',
    csrf,
    adminOnly(web, async (request, reply, admin) => {
      const result = await useCases.assignRoles({
        userId: userIdOf(request),
        roles: fields(request, 'roles'),
        context: { ...requestContext(request), actorId: admin.user.id },
      });
      if (!result.ok) return showUser(request, reply, admin, userIdOf(request), { error: result.error });
      return redirect(reply, `/admin/users/${userIdOf(request)}?notice=roles-saved`);
    }),
  );

  // Takes a shortcut away (the user is asked for a second factor again): audited, no step-up needed.
  app.post(
    '/admin/users/:userId/forget-devices',
    csrf,
    adminOnly(web, async (request, reply, admin) => {
      const user = await useCases.findUserById(userIdOf(request));
      if (!user) return showUser(request, reply, admin, userIdOf(request));
      await useCases.forgetDevices({
        userId: user.id,
        reason: 'admin',
        context: { ...requestContext(request), actorId: admin.user.id },
      });
      return redirect(reply, `/admin/users/${user.id}?notice=devices-forgotten-by-admin`);
    }),
  );

  app.post(
    '/admin/users/:userId/reset',
    csrf,
    adminOnly(web, async (request, reply, admin) => {
      const reason = field(request, 'reason', 2000);
      if (!reason.trim() || reason.trim().length > MAX_RESET_REASON_LENGTH)
        return showUser(request, reply, admin, userIdOf(request), { error: 'reason_required' });
      const failure = await stepUpFailure(useCases, request, reply, admin);
      if (failure) return showUser(request, reply, admin, userIdOf(request), { error: failure });
      const result = await useCases.resetUserMfa({
        userId: userIdOf(request),
        reason,
        context: { ...requestContext(request), actorId: admin.user.id },
      });
      if (!result.ok) return showUser(request, reply, admin, userIdOf(request), { error: result.error });
      return redirect(reply, `/admin/users/${userIdOf(request)}?notice=mfa-reset`);
    }),
  );

  const showRoles = async (
    request: FastifyRequest,
    reply: FastifyReply,
    error?: Parameters<typeof messageFor>[0],
  ) =>
    sendPage(request, reply, useCases, {
      title: 'Roles',
      status: error ? statusFor(error) : 200,
      body: rolesPage({
        csrf: csrfToken(request, reply),
        roles: await useCases.listRoles(),
        builtIn: builtInRoles,
        error: error && messageFor(error),
        notice: noticeFor(request.query),
      }),
    });

  app.get(
    '/admin/roles',
    adminOnly(web, async (request, reply) => showRoles(request, reply)),
  );

  app.post(
    '/admin/roles',
    csrf,
    adminOnly(web, async (request, reply, admin) => {
      const added = await useCases.addRole({
        name: field(request, 'name', 64),
        context: { ...requestContext(request), actorId: admin.user.id },
      });
      if (!added.ok) return showRoles(request, reply, added.error);
      return redirect(reply, '/admin/roles?notice=role-added');
    }),
  );

  const showKeys = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: { created?: { key: string; name: string }; error?: Parameters<typeof messageFor>[0] } = {},
  ) =>
    sendPage(request, reply, useCases, {
      title: 'API keys',
      status: extra.error ? statusFor(extra.error) : extra.created ? 201 : 200,
      body: apiKeysPage({
        csrf: csrfToken(request, reply),
        keys: await useCases.listApiKeys(),
        scopes: apiKeyScopes,
        created: extra.created,
        error: extra.error && messageFor(extra.error),
        notice: noticeFor(request.query),
      }),
    });

  app.get(
    '/admin/api-keys',
    adminOnly(web, async (request, reply) => showKeys(request, reply)),
  );

  app.post(
    '/admin/api-keys',
    csrf,
    adminOnly(web, async (request, reply, admin) => {
      const name = field(request, 'name', 128);
      const created = await useCases.createApiKey({
        name,
        scopes: fields(request, 'scopes'),
        context: { ...requestContext(request), actorId: admin.user.id },
      });
      if (!created.ok) return showKeys(request, reply, { error: created.error });
      // The key is in this response only (no-store): it is never stored or shown again.
      return showKeys(request, reply, { created: { key: created.value.key, name: name.trim() } });
    }),
  );

  app.post(
    '/admin/api-keys/:keyId/revoke',
    csrf,
    adminOnly(web, async (request, reply, admin) => {
      const { keyId } = request.params as { keyId: string };
      const revoked = await useCases.revokeApiKey({
        id: keyId,
        context: { ...requestContext(request), actorId: admin.user.id },
      });
      if (!revoked.ok) return showKeys(request, reply, { error: revoked.error });
      return redirect(reply, '/admin/api-keys?notice=api-key-revoked');
    }),
  );

  registerAuditRoutes(app, web);
  registerWebhookRoutes(app, web);
  registerAccessRulesRoutes(app, web);
}
