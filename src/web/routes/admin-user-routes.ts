import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { accountLabel } from '../../service/accounts/account-label.js';
import { MAX_RESET_REASON_LENGTH } from '../../service/admin/reset-mfa.js';
import type { ActiveSession } from '../../service/sessions/sessions.js';
import { adminUserPage, usersWithCodesPage } from '../pages/admin-user-pages.js';
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
import { adminOnly } from './admin-guard.js';
import { hasTotp, stepUpFailure } from './step-up.js';

const USERS_PAGE = 50;

/** The users list's query: the email prefix searched for, and the row after which this page starts. */
function usersListQuery(request: FastifyRequest) {
  const query = request.query as { q?: unknown; after?: unknown; id?: unknown };
  const search = typeof query.q === 'string' ? query.q.trim().slice(0, 254) : '';
  // The paging cursor is the last row's email and id: anything longer than those can be is not a cursor
  // this page made, so the list starts from the top (every string read from a request is bounded).
  const after =
    typeof query.after === 'string' &&
    typeof query.id === 'string' &&
    query.after.length <= 254 &&
    query.id.length <= 64
      ? { email: query.after, id: query.id }
      : undefined;
  return { search, after };
}

/** The users list, one user's page and what an administrator does to an account (roles, remembered browsers, MFA reset). */
export function registerAdminUserRoutes(app: FastifyInstance, web: WebOptions): void {
  const { useCases } = web;
  const csrf = { preHandler: app.csrfProtection };

  app.get(
    '/admin/users',
    adminOnly(web, async (request, reply) => {
      const { search, after } = usersListQuery(request);
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
}
