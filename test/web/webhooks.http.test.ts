import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { deliverDueWebhooks, emitWebhookEvent, webhookSecret } from '../../src/service/webhooks.js';
import { alertText, createWebTestApp, type FormClient, type WebTestApp } from '../helpers/web-client.js';
import { signedInAdmin } from '../helpers/web-flows.js';

/** Issue 8.3: Administration → Webhooks, over HTTP. */
let web: WebTestApp;
let admin: FormClient;
beforeAll(async () => {
  web = await createWebTestApp();
  ({ client: admin } = await signedInAdmin(web, 'hooks-admin@example.test'));
});
afterAll(async () => web?.close());

test('an administrator adds an endpoint (secret shown once), sees the delivery log, and removes it', async () => {
  const received: string[] = [];
  const server = createServer((request, response) => {
    received.push(String(request.headers['sparekey-webhook-id']));
    response.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  try {
    const page = await admin.get('/admin/webhooks');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('No endpoints yet.');

    const refused = await admin.post('/admin/webhooks', {
      url: 'http://hooks.example.com/x',
      events: 'mfa.locked',
    });
    expect(refused.statusCode).toBe(400);
    expect(alertText(refused.body)).toContain('Use an https:// address');
    expect(await web.env.deps.store.listWebhookEndpoints()).toEqual([]);

    const added = await admin.post('/admin/webhooks', { url, events: 'mfa.locked' });
    expect(added.statusCode).toBe(201);
    const [endpoint] = await web.env.deps.store.listWebhookEndpoints();
    expect(endpoint).toMatchObject({ url, events: ['mfa.locked'] });
    const secret = added.body.match(/id="new-webhook-secret"[^>]*>([^<]+)</)?.[1];
    expect(secret).toBe(webhookSecret(web.env.deps, endpoint?.id as string));
    // Shown once: the list does not show it again, and it is not in the database.
    expect((await admin.get('/admin/webhooks')).body).not.toContain(secret as string);
    const stored = JSON.stringify(
      await web.env.opened.db.selectFrom('webhook_endpoints').selectAll().execute(),
    );
    expect(stored).not.toContain(secret as string);

    await web.env.deps.store.transaction((tx) =>
      emitWebhookEvent(web.env.deps, tx, {
        type: 'mfa.locked',
        at: web.env.clock.now(),
        userId: null,
        context: {},
      }),
    );
    expect(await deliverDueWebhooks(web.env.deps)).toMatchObject({ delivered: 1 });
    const log = await admin.get('/admin/webhooks');
    expect(log.body).toContain(`<code>${received[0]}</code>`);
    expect(log.body).toMatch(/<td>delivered<\/td><td>1<\/td><td>HTTP 204<\/td>/);

    await admin.get('/admin/webhooks');
    const removed = await admin.post(`/admin/webhooks/${endpoint?.id}/remove`, {});
    expect(removed.headers.location).toBe('/admin/webhooks?notice=webhook-removed');
    expect(await web.env.deps.store.listWebhookEndpoints()).toEqual([]);
    const events = await web.env.deps.store.listAuditEvents({ limit: 10 });
    expect(events.map((event) => event.action)).toEqual(
      expect.arrayContaining(['webhook_endpoint_added', 'webhook_endpoint_removed']),
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
