import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiKeyScopes } from '../../core/api-key.js';
import { apiKeysPage } from '../pages/admin-api-key-pages.js';
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

/** API keys: listed, created (the key is shown once) and revoked. */
export function registerAdminApiKeyRoutes(app: FastifyInstance, web: WebOptions): void {
  const { useCases } = web;
  const csrf = { preHandler: app.csrfProtection };

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
}
