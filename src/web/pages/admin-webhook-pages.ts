import { webhookEventTypes } from '../../core/webhook.js';
import type {
  WebhookDeliveryRecord,
  WebhookEndpointRecord,
} from '../../service/webhooks/webhook-overview.js';
import { type Html, html } from '../html.js';
import { csrfField, errorBox, noticeBox } from '../layout.js';
import { adminNav } from './admin-pages.js';

const when = (at: Date | null) => (at ? `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC` : '—');

const eventDescriptions: Record<(typeof webhookEventTypes)[number], string> = {
  'recovery_code.used': 'a recovery code was used',
  'recovery_codes.low': 'a user is low on recovery codes',
  'security_key.added': 'a user registered a security key or passkey',
  'security_key.removed': 'a user removed a security key or passkey',
  'security_key.counter_regressed': "a security key's counter went backwards (a possible cloned key)",
  'recovery_codes.regenerated': 'a user got a new set of recovery codes',
  'mfa.reset_by_admin': "an administrator reset a user's two-factor authentication",
  'mfa.locked': "a user's second factors locked after too many wrong codes",
};

/** Finished deliveries only: a pending one is already queued (and may be in a worker's hands). */
function redeliverButton(csrf: string, delivery: WebhookDeliveryRecord): Html | string {
  if (delivery.status === 'pending') return '';
  return html`<form method="post" action="/admin/webhooks/deliveries/${delivery.id}/redeliver" class="inline">${csrfField(csrf)}<button type="submit" class="link">Redeliver ${delivery.id}</button></form>`;
}

/** Security webhooks: endpoints, the form to add one, and the delivery log. */
export function webhooksPage(input: {
  csrf: string;
  endpoints: WebhookEndpointRecord[];
  deliveries: WebhookDeliveryRecord[];
  created?: { url: string; secret: string };
  error?: string;
  notice?: string;
  form?: { url: string; events: readonly string[] };
  /** Whether this server accepts plain http:// to loopback (SPAREKEY_WEBHOOK_ALLOW_HTTP_LOOPBACK). */
  allowHttpLoopback: boolean;
}): Html {
  return html`<h1>Webhooks</h1>
${adminNav('/admin/webhooks')}
${noticeBox(input.notice)}${errorBox(input.error)}
${
  input.created
    ? html`<div class="warning" role="status"><p><strong>Copy the signing secret for ${input.created.url} now.</strong> It is shown only this once; your receiver checks each request's signature with it (see docs/webhooks.md).</p><p><code id="new-webhook-secret" class="secret">${input.created.secret}</code></p></div>`
    : ''
}
<p>SpareKey POSTs a signed JSON event to each endpoint when something happens that a security team should know about, and retries with back-off until the endpoint answers 2xx.</p>
${
  input.endpoints.length === 0
    ? html`<p id="no-endpoints">No endpoints yet.</p>`
    : html`<div class="table-wrap"><table id="webhook-endpoints"><thead><tr><th scope="col">Address</th><th scope="col">Events</th><th scope="col">Added</th><th scope="col"></th></tr></thead>
<tbody>${input.endpoints.map(
        (endpoint) =>
          html`<tr><td><code>${endpoint.url}</code></td><td>${endpoint.events.join(' ')}</td><td>${when(endpoint.createdAt)}</td><td><form method="post" action="/admin/webhooks/${endpoint.id}/ping" class="inline">${csrfField(input.csrf)}<button type="submit" class="link">Send test event to ${endpoint.url}</button></form> <form method="post" action="/admin/webhooks/${endpoint.id}/remove" class="inline">${csrfField(input.csrf)}<button type="submit" class="link">Remove ${endpoint.url}</button></form></td></tr>`,
      )}</tbody></table></div>`
}
<h2>Add an endpoint</h2>
<form method="post" action="/admin/webhooks" class="stack">
  ${csrfField(input.csrf)}
  <label for="webhook-url">Address</label>
  <input id="webhook-url" name="url" type="url" required maxlength="2000" placeholder="https://security.example.com/hooks/sparekey" value="${input.form?.url ?? ''}" aria-describedby="webhook-url-hint">
  <p class="hint" id="webhook-url-hint">${
    input.allowHttpLoopback
      ? 'https://, or plain http:// to 127.0.0.1, [::1] or localhost (this is a development server).'
      : 'https:// only.'
  }</p>
  <fieldset><legend>Events to send</legend>
  ${webhookEventTypes.map(
    (type) =>
      html`<div class="check"><input type="checkbox" id="event-${type}" name="events" value="${type}" ${!input.form || input.form.events.includes(type) ? html`checked` : ''}><label for="event-${type}"><code>${type}</code>: ${eventDescriptions[type]}</label></div>`,
  )}
  </fieldset>
  <button type="submit">Add endpoint</button>
</form>
<h2>Delivery log</h2>
${
  input.deliveries.length === 0
    ? html`<p id="no-deliveries">Nothing sent yet.</p>`
    : html`<div class="table-wrap"><table id="webhook-deliveries"><thead><tr><th scope="col">Event</th><th scope="col">Address</th><th scope="col">Delivery id</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Created</th><th scope="col">Last attempt</th><th scope="col"></th></tr></thead>
<tbody>${input.deliveries.map(
        (delivery) =>
          html`<tr><td><code>${delivery.eventType}</code></td><td><code>${delivery.url}</code></td><td><code>${delivery.id}</code></td><td>${
            delivery.status === 'pending' && delivery.attempts > 0
              ? `retrying (next ${when(delivery.nextAttemptAt)})`
              : delivery.status
          }</td><td>${delivery.attempts}</td><td>${delivery.lastError ?? (delivery.lastStatusCode === null ? '—' : `HTTP ${delivery.lastStatusCode}`)}</td><td>${when(delivery.createdAt)}</td><td>${when(delivery.lastAttemptAt)}</td><td>${redeliverButton(input.csrf, delivery)}</td></tr>`,
      )}</tbody></table></div>`
}`;
}
