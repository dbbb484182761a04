import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import { oidcIssuer } from '../../service/oidc/issuer.js';
import { type ApplicationDraft, applicationsPage } from '../pages/admin-application-pages.js';
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

/** At most 10 URIs of at most 2000 characters each (the service's limits), and the line breaks between. */
const URI_LIST_MAX_LENGTH = 10 * 2002;

const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);

/** The registration form as typed, read field by field (never spread into the use case). */
function draftFrom(request: FastifyRequest): ApplicationDraft {
  return {
    name: field(request, 'name', 100),
    redirectUris: field(request, 'redirectUris', URI_LIST_MAX_LENGTH),
    postLogoutRedirectUris: field(request, 'postLogoutRedirectUris', URI_LIST_MAX_LENGTH),
    kind: field(request, 'kind', 16) === 'public' ? 'public' : 'confidential',
    firstParty: field(request, 'firstParty', 4) === 'on',
    twoFactorRequired: field(request, 'twoFactorRequired', 4) === 'on',
    scopes: fields(request, 'scopes', 32).slice(0, 10),
  };
}

/**
 * Administration → Applications: the OpenID Connect clients, registered (a confidential one's secret
 * shown once), their secret rotated (shown once), disabled, enabled and deleted. Every change is
 * audited by the use case with the administrator as the actor.
 */
export function registerAdminApplicationRoutes(app: FastifyInstance, web: WebOptions): void {
  const { useCases } = web;
  const csrf = { preHandler: app.csrfProtection };

  const showApplications = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: Omit<Parameters<typeof applicationsPage>[0], 'csrf' | 'clients' | 'issuer' | 'error'> & {
      error?: ErrorCode;
      status?: number;
    } = {},
  ) => {
    const { error, status, ...shown } = extra;
    return sendPage(request, reply, useCases, {
      title: 'Applications',
      status: error ? statusFor(error) : (status ?? 200),
      body: applicationsPage({
        csrf: csrfToken(request, reply),
        clients: await useCases.listOidcClients(),
        issuer: oidcIssuer(useCases.options.publicUrl),
        notice: noticeFor(request.query),
        error: error && messageFor(error),
        ...shown,
      }),
    });
  };

  const clientIdOf = (request: FastifyRequest) => String((request.params as { clientId: string }).clientId);

  app.get(
    '/admin/applications',
    adminOnly(web, async (request, reply) => showApplications(request, reply)),
  );

  app.post(
    '/admin/applications',
    csrf,
    adminOnly(web, async function registerApplication(request, reply, admin) {
      const draft = draftFrom(request);
      const registered = await useCases.registerOidcClient({
        name: draft.name,
        redirectUris: lines(draft.redirectUris),
        postLogoutRedirectUris: lines(draft.postLogoutRedirectUris),
        kind: draft.kind,
        firstParty: draft.firstParty,
        twoFactorRequired: draft.twoFactorRequired,
        scopes: draft.scopes,
        context: { ...requestContext(request), actorId: admin.user.id },
      });
      if (!registered.ok) return showApplications(request, reply, { error: registered.error, draft });
      const { client, secret } = registered.value;
      // The secret is in this response only (sendPage answers no-store): it is stored as a hash.
      return showApplications(request, reply, {
        status: 201,
        ...(secret === null
          ? { registered: { name: client.name, clientId: client.id } }
          : { secret: { name: client.name, clientId: client.id, secret, rotated: false } }),
      });
    }),
  );

  app.post(
    '/admin/applications/:clientId/rotate-secret',
    csrf,
    adminOnly(web, async function rotateApplicationSecret(request, reply, admin) {
      const id = clientIdOf(request);
      const rotated = await useCases.rotateOidcClientSecret({
        id,
        context: { ...requestContext(request), actorId: admin.user.id },
      });
      if (!rotated.ok) return showApplications(request, reply, { error: rotated.error });
      const client = await useCases.findOidcClient(id);
      return showApplications(request, reply, {
        secret: { name: client?.name ?? id, clientId: id, secret: rotated.value.secret, rotated: true },
      });
    }),
  );

  for (const [action, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    app.post(
      `/admin/applications/:clientId/${action}`,
      csrf,
      adminOnly(web, async function setApplicationDisabled(request, reply, admin) {
        const changed = await useCases.setOidcClientDisabled({
          id: clientIdOf(request),
          disabled,
          context: { ...requestContext(request), actorId: admin.user.id },
        });
        if (!changed.ok) return showApplications(request, reply, { error: changed.error });
        return redirect(reply, `/admin/applications?notice=application-${action}d`);
      }),
    );
  }

  app.post(
    '/admin/applications/:clientId/delete',
    csrf,
    adminOnly(web, async function deleteApplication(request, reply, admin) {
      const deleted = await useCases.deleteOidcClient({
        id: clientIdOf(request),
        context: { ...requestContext(request), actorId: admin.user.id },
      });
      if (!deleted.ok) return showApplications(request, reply, { error: deleted.error });
      return redirect(reply, '/admin/applications?notice=application-deleted');
    }),
  );
}
