import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../core/errors.js';
import { webhooksPage } from '../pages/admin-webhook-pages.js';
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

/** The delivery log shows the newest deliveries; older ones stay in the database. */
const LOG_LENGTH = 100;

/** Administration → Webhooks: security event endpoints and their delivery log. */
export function registerWebhookRoutes(app: FastifyInstance, web: WebOptions): void {
  const { useCases } = web;
  const csrf = { preHandler: app.csrfProtection };

  const show = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: {
      created?: { url: string; secret: string };
      problem?: string;
      form?: { url: string; events: string[] };
      /** A refused action on an endpoint or a delivery (404, 409), shown above the page. */
      failure?: ErrorCode;
    } = {},
  ) =>
    sendPage(request, reply, useCases, {
      title: 'Webhooks',
      status: extra.failure ? statusFor(extra.failure) : extra.problem ? 400 : extra.created ? 201 : 200,
      body: webhooksPage({
        csrf: csrfToken(request, reply),
        ...(await useCases.getWebhookOverview({ deliveries: LOG_LENGTH })),
        created: extra.created,
        error: extra.failure ? messageFor(extra.failure) : extra.problem,
        form: extra.form,
        notice: noticeFor(request.query),
        allowHttpLoopback: useCases.webhookUrlPolicy().allowHttpLoopback,
      }),
    });

  app.get(
    '/admin/webhooks',
    adminOnly(web, async (request, reply) => show(request, reply)),
  );

  app.post(
    '/admin/webhooks',
    csrf,
    adminOnly(web, async (request, reply, admin) => {
      const url = field(request, 'url', 2000);
      const events = fields(request, 'events');
      const added = await useCases.addWebhookEndpoint({
        url,
        events,
        context: { ...requestContext(request), actorId: admin.user.id },
      });
      if (!added.ok) return show(request, reply, { problem: added.problem, form: { url, events } });
      // The secret is in this response only (no-store), like an API key.
      return show(request, reply, { created: { url: added.endpoint.url, secret: added.secret } });
    }),
  );

  app.post(
    '/admin/webhooks/:endpointId/remove',
    csrf,
    adminOnly(web, async (request, reply, admin) => {
      const { endpointId } = request.params as { endpointId: string };
      await useCases.removeWebhookEndpoint({
        endpointId: endpointId.slice(0, 64),
        context: { ...requestContext(request), actorId: admin.user.id },
      });
      return redirect(reply, '/admin/webhooks?notice=webhook-removed');
    }),
  );

  app.post(
    '/admin/webhooks/:endpointId/ping',
    csrf,
    adminOnly(web, async (request, reply, admin) => {
      const { endpointId } = request.params as { endpointId: string };
      const sent = await useCases.sendWebhookTestEvent({
        endpointId: endpointId.slice(0, 64),
        context: { ...requestContext(request), actorId: admin.user.id },
      });
      if (!sent.ok) return show(request, reply, { failure: sent.error });
      return redirect(reply, '/admin/webhooks?notice=webhook-test-sent');
    }),
  );

  app.post(
    '/admin/webhooks/deliveries/:deliveryId/redeliver',
    csrf,
    adminOnly(web, async (request, reply, admin) => {
      const { deliveryId } = request.params as { deliveryId: string };
      const queued = await useCases.redeliverWebhook({
        deliveryId: deliveryId.slice(0, 64),
        context: { ...requestContext(request), actorId: admin.user.id },
      });
      if (!queued.ok) return show(request, reply, { failure: queued.error });
      return redirect(reply, '/admin/webhooks?notice=webhook-redelivered');
    }),
  );
}
