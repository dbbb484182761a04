import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { builtInRoles, type RecoveryCodeSettings } from '../../core/policy.js';
import { adminSettingsPage, rolesPage } from '../pages/admin-pages.js';
import {
  csrfToken,
  field,
  fields,
  messageFor,
  redirect,
  requestContext,
  sendPage,
  statusFor,
} from '../web-context.js';
import { noticeFor, type WebOptions } from '../web-options.js';
import { adminOnly } from './admin-guard.js';

/** Recovery-code settings and the roles they choose from: administrators only. */
export function registerAdminSettingsRoutes(app: FastifyInstance, web: WebOptions): void {
  const { useCases } = web;
  const csrf = { preHandler: app.csrfProtection };

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
      const submitted = submittedSettings(request, current, roles);
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
}

/**
 * The settings form, field by field; a role not among `roles` is dropped and a number that is not all digits
 * becomes NaN, for the use case's validation to refuse.
 */
function submittedSettings(
  request: FastifyRequest,
  current: RecoveryCodeSettings,
  roles: string[],
): RecoveryCodeSettings {
  const number = (name: string) => {
    const text = field(request, name, 16).trim();
    return /^\d+$/.test(text) ? Number(text) : Number.NaN;
  };
  const policy = field(request, 'policy', 32);
  return {
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
}
