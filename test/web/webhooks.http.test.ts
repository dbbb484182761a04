import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { WEBHOOK_MAX_ATTEMPTS } from '../../src/core/webhook.js';
import { deliverDueWebhooks, emitWebhookEvent, webhookSecret } from '../../src/service/webhooks/webhooks.js';
import { alertText, createWebTestApp, type FormClient, type WebTestApp } from '../helpers/web-client.js';
import { signedInAdmin } from '../helpers/web-flows.js';
import { runNodeRecipe } from '../helpers/webhook-doc-recipe.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/** Issue 8.3: Administration → Webhooks, over HTTP, with real receivers on 127.0.0.1. */
let web: WebTestApp;
let admin: FormClient;
const receivers: WebhookReceiver[] = [];
let admins = 0;
/** A newly signed-in administrator (after the test clock ran past the last one's session). */
const signInAdmin = async () => {
  ({ client: admin } = await signedInAdmin(web, `hooks-admin-${++admins}@example.test`));
};
beforeAll(async () => {
  web = await createWebTestApp();
  await signInAdmin();
});
beforeEach(() => {
  // The receivers are plain http on 127.0.0.1: a development server's setting (one test turns it off).
  web.env.deps.options.webhookAllowHttpLoopback = true;
});
afterAll(async () => {
  for (const receiver of receivers) await receiver.close();
  await web?.close();
});

async function receiver(options: Parameters<typeof startWebhookReceiver>[0] = {}) {
  const started = await startWebhookReceiver(options);
  receivers.push(started);
  return started;
}

/** Adds an endpoint through the page; its id and the secret the page showed once. */
async function addEndpoint(url: string, events = 'mfa.locked') {
  await admin.get('/admin/webhooks');
  const added = await admin.post('/admin/webhooks', { url, events });
  expect(added.statusCode, alertText(added.body)).toBe(201);
  const endpoint = (await web.env.deps.store.listWebhookEndpoints()).find((e) => e.url === url);
  const secret = added.body.match(/id="new-webhook-secret"[^>]*>([^<]+)</)?.[1];
  if (!endpoint || !secret) throw new Error('endpoint not added');
  return { id: endpoint.id, secret };
}

const emitLock = () =>
  web.env.deps.store.transaction((tx) =>
    emitWebhookEvent(web.env.deps, tx, {
      type: 'mfa.locked',
      at: web.env.clock.now(),
      userId: null,
      context: {},
    }),
  );

/** The delivery log's row for `deliveryId` as its cells' text, or undefined when the log does not list it. */
async function logRow(deliveryId: string): Promise<string[] | undefined> {
  const page = await admin.get('/admin/webhooks');
  const log = page.body.slice(page.body.indexOf('<h2>Delivery log</h2>'));
  const row = log.split('<tr>').find((tr) => tr.includes(`<code>${deliveryId}</code>`));
  return row
    ? [...row.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((cell) =>
        (cell[1] as string).replace(/<[^>]+>/g, '').trim(),
      )
    : undefined;
}

/** The page's way of writing a time. */
const shown = (at: Date) => `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/** The newest delivery to `endpointId`. */
async function latestDeliveryTo(endpointId: string) {
  const delivery = (await web.env.deps.store.listWebhookDeliveries(500)).find(
    (d) => d.endpointId === endpointId,
  );
  if (!delivery) throw new Error('no delivery');
  return delivery;
}

/** Runs rounds, waiting out each back-off, until `endpointId`'s deliveries are finished. */
async function runUntilFinished(endpointId: string) {
  for (let round = 0; round < 40; round++) {
    const pending = (await web.env.deps.store.listWebhookDeliveries(500)).filter(
      (d) => d.endpointId === endpointId && d.status === 'pending',
    );
    // Hours pass on the test clock: the administrator's session has ended by then.
    if (pending.length === 0) return signInAdmin();
    web.env.clock.nowMs = Math.max(web.env.clock.nowMs, ...pending.map((d) => d.nextAttemptAt.getTime()));
    await deliverDueWebhooks(web.env.deps);
  }
  throw new Error('still pending');
}

test('an administrator adds an endpoint (secret shown once), sees the delivery log, and removes it', async () => {
  const hook = await receiver({ answer: () => 204 });
  const page = await admin.get('/admin/webhooks');
  expect(page.statusCode).toBe(200);

  const refused = await admin.post('/admin/webhooks', {
    url: 'http://hooks.example.com/x',
    events: 'mfa.locked',
  });
  expect(refused.statusCode).toBe(400);
  expect(alertText(refused.body)).toContain('Use an https:// address');
  expect(await web.env.deps.store.listWebhookEndpoints()).toEqual([]);

  const { id, secret } = await addEndpoint(hook.url);
  expect(secret).toBe(webhookSecret(web.env.deps, id));
  // Shown once: the list does not show it again, and it is not in the database.
  expect((await admin.get('/admin/webhooks')).body).not.toContain(secret);
  const stored = JSON.stringify(
    await web.env.opened.db.selectFrom('webhook_endpoints').selectAll().execute(),
  );
  expect(stored).not.toContain(secret);

  await emitLock();
  expect(await deliverDueWebhooks(web.env.deps)).toMatchObject({ delivered: 1 });
  const [deliveryId] = hook.processed as [string];
  expect(await logRow(deliveryId)).toEqual([
    'mfa.locked',
    hook.url,
    deliveryId,
    'delivered',
    '1',
    'HTTP 204',
    shown(web.env.clock.now()),
    shown(web.env.clock.now()),
    `Redeliver ${deliveryId}`,
  ]);

  await admin.get('/admin/webhooks');
  const removed = await admin.post(`/admin/webhooks/${id}/remove`, {});
  expect(removed.headers.location).toBe('/admin/webhooks?notice=webhook-removed');
  expect(await web.env.deps.store.listWebhookEndpoints()).toEqual([]);
  const events = await web.env.deps.store.listAuditEvents({ limit: 10 });
  expect(events.map((event) => event.action)).toEqual(
    expect.arrayContaining(['webhook_endpoint_added', 'webhook_endpoint_removed']),
  );
});

test('the log shows a retrying delivery with its attempts and next time, then a failed one; removing its endpoint removes its log', async () => {
  const down = await receiver({ answer: () => 503 });
  const up = await receiver();
  const failing = await addEndpoint(down.url);
  const healthy = await addEndpoint(up.url);
  await emitLock();
  await deliverDueWebhooks(web.env.deps);
  const retrying = await latestDeliveryTo(failing.id);
  const delivered = await latestDeliveryTo(healthy.id);
  const sentAt = web.env.clock.now();
  // Retrying: one attempt, the answer, and the next attempt 10 s later; no Redeliver (it is still queued).
  expect(await logRow(retrying.id)).toEqual([
    'mfa.locked',
    down.url,
    retrying.id,
    `retrying (next ${shown(new Date(sentAt.getTime() + 10_000))})`,
    '1',
    'HTTP 503',
    shown(sentAt),
    shown(sentAt),
    '',
  ]);

  await runUntilFinished(failing.id);
  const failed = await logRow(retrying.id);
  expect(failed?.slice(3, 6)).toEqual(['failed', String(WEBHOOK_MAX_ATTEMPTS), 'HTTP 503']);
  expect(failed?.[8]).toBe(`Redeliver ${retrying.id}`);
  expect(down.received).toHaveLength(WEBHOOK_MAX_ATTEMPTS);

  await admin.get('/admin/webhooks');
  expect((await admin.post(`/admin/webhooks/${failing.id}/remove`, {})).statusCode).toBe(303);
  expect(await logRow(retrying.id)).toBeUndefined();
  expect(await web.env.deps.store.findWebhookDelivery(retrying.id)).toBeUndefined();
  // The other endpoint's log stays.
  expect((await logRow(delivered.id))?.[3]).toBe('delivered');
  await admin.get('/admin/webhooks');
  await admin.post(`/admin/webhooks/${healthy.id}/remove`, {});
});

test('Redeliver re-queues a finished delivery with the same id (audited); a pending or unknown one is refused; CSRF', async () => {
  let up = false;
  const hook = await receiver({ answer: () => (up ? 200 : 503) });
  const { id: endpointId, secret } = await addEndpoint(hook.url);
  await emitLock();
  await runUntilFinished(endpointId);
  const failed = await latestDeliveryTo(endpointId);
  expect(failed.status).toBe('failed');

  await admin.get('/admin/webhooks');
  const forged = await admin.post(`/admin/webhooks/deliveries/${failed.id}/redeliver`, { _csrf: 'forged' });
  expect(forged.statusCode).toBe(403);
  expect((await web.env.deps.store.findWebhookDelivery(failed.id))?.status).toBe('failed');

  await admin.get('/admin/webhooks');
  const redelivered = await admin.post(`/admin/webhooks/deliveries/${failed.id}/redeliver`, {});
  expect(redelivered.headers.location).toBe('/admin/webhooks?notice=webhook-redelivered');
  expect(await logRow(failed.id)).toMatchObject({ 3: 'pending', 4: '0', 8: '' });
  const [audit] = await web.env.deps.store.listAuditEvents({
    action: 'webhook_delivery_redelivered',
    limit: 1,
  });
  expect(audit?.details).toMatchObject({
    deliveryId: failed.id,
    previousStatus: 'failed',
    previousAttempts: 18,
  });
  expect(audit?.actorId).toBeTruthy();

  // Queued again: a second Redeliver is refused, and says why.
  await admin.get('/admin/webhooks');
  const again = await admin.post(`/admin/webhooks/deliveries/${failed.id}/redeliver`, {});
  expect(again.statusCode).toBe(409);
  expect(alertText(again.body)).toContain('still queued');
  await admin.get('/admin/webhooks');
  const unknown = await admin.post('/admin/webhooks/deliveries/no-such-delivery/redeliver', {});
  expect(unknown.statusCode).toBe(404);
  expect(alertText(unknown.body)).toContain('not in the log');

  up = true;
  expect(await deliverDueWebhooks(web.env.deps)).toMatchObject({ delivered: 1 });
  expect(hook.processed).toEqual([failed.id]);
  const last = hook.received.at(-1);
  expect(last?.id).toBe(failed.id);
  const checks = [
    {
      secret,
      headers: last?.headers ?? {},
      body: last?.body ?? Buffer.alloc(0),
      nowSeconds: web.env.clock.nowMs / 1000,
    },
  ];
  expect(await runNodeRecipe(checks)).toEqual([true]);
  expect((await logRow(failed.id))?.slice(3, 6)).toEqual(['delivered', '1', 'HTTP 200']);
  await admin.get('/admin/webhooks');
  await admin.post(`/admin/webhooks/${endpointId}/remove`, {});
});

test('Send test event queues one signed ping to that endpoint only, shown in the log and audited; an unknown endpoint is 404', async () => {
  const pinged = await receiver();
  const other = await receiver();
  const { id: endpointId, secret } = await addEndpoint(pinged.url, 'recovery_code.used');
  const otherEndpoint = await addEndpoint(other.url);

  await admin.get('/admin/webhooks');
  const sent = await admin.post(`/admin/webhooks/${endpointId}/ping`, {});
  expect(sent.headers.location).toBe('/admin/webhooks?notice=webhook-test-sent');
  expect(await deliverDueWebhooks(web.env.deps)).toMatchObject({ attempted: 1, delivered: 1 });
  expect(other.received).toEqual([]);
  const [ping] = pinged.received;
  if (!ping) throw new Error('no ping');
  expect(JSON.parse(ping.body.toString('utf8'))).toEqual({
    type: 'ping',
    createdAt: web.env.clock.now().toISOString(),
    data: { endpointId },
  });
  const nowSeconds = Number(ping.headers['sparekey-webhook-timestamp']);
  expect(await runNodeRecipe([{ secret, headers: ping.headers, body: ping.body, nowSeconds }])).toEqual([
    true,
  ]);
  expect((await logRow(ping.id))?.slice(0, 6)).toEqual([
    'ping',
    pinged.url,
    ping.id,
    'delivered',
    '1',
    'HTTP 200',
  ]);
  const [audit] = await web.env.deps.store.listAuditEvents({ action: 'webhook_test_event_sent', limit: 1 });
  expect(audit?.details).toEqual({ endpointId, deliveryId: ping.id });

  await admin.get('/admin/webhooks');
  const unknown = await admin.post('/admin/webhooks/no-such-endpoint/ping', {});
  expect(unknown.statusCode).toBe(404);
  expect(alertText(unknown.body)).toContain('endpoint was not found');
  for (const id of [endpointId, otherEndpoint.id]) {
    await admin.get('/admin/webhooks');
    await admin.post(`/admin/webhooks/${id}/remove`, {});
  }
});

test('plain http to this machine: refused unless the server runs with SPAREKEY_WEBHOOK_ALLOW_HTTP_LOOPBACK=on, at adding and at sending', async () => {
  const local = await receiver();
  const { id } = await addEndpoint(local.url);
  expect((await admin.get('/admin/webhooks')).body).toContain(
    'plain http:// to 127.0.0.1, [::1] or localhost',
  );

  // The same server without the development setting.
  web.env.deps.options.webhookAllowHttpLoopback = false;
  const page = await admin.get('/admin/webhooks');
  expect(page.body).toContain('https:// only.');
  const refused = await admin.post('/admin/webhooks', {
    url: 'http://127.0.0.1:9/other',
    events: 'mfa.locked',
  });
  expect(refused.statusCode).toBe(400);
  expect(alertText(refused.body)).toContain('SPAREKEY_WEBHOOK_ALLOW_HTTP_LOOPBACK=on');
  // The endpoint added before is not sent to either: the attempt fails with that reason.
  await emitLock();
  expect(await deliverDueWebhooks(web.env.deps)).toMatchObject({ attempted: 1, retrying: 1 });
  expect(local.received).toEqual([]);
  const held = await latestDeliveryTo(id);
  expect((await logRow(held.id))?.[5]).toContain('SPAREKEY_WEBHOOK_ALLOW_HTTP_LOOPBACK=on');

  web.env.deps.options.webhookAllowHttpLoopback = true;
  await runUntilFinished(id);
  expect(local.processed).toEqual([held.id]);
  await admin.get('/admin/webhooks');
  await admin.post(`/admin/webhooks/${id}/remove`, {});
});
