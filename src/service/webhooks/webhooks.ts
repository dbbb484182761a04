import { createHmac } from 'node:crypto';
import {
  WEBHOOK_HEADERS,
  WEBHOOK_MAX_ATTEMPTS,
  type WebhookEventType,
  type WebhookUrlPolicy,
  webhookEventTypes,
  webhookRetryDelayMs,
  webhookSignature,
  webhookUrlProblem,
} from '../../core/webhook.js';
import type { Store, WebhookDeliveryClaim, WebhookEndpointRecord } from '../../store/store.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';
import { startPeriodic } from '../maintenance/periodic.js';

/** Longer than a send can take (timeout below), so a live worker's claim never runs out under it. */
const CLAIM_LEASE_MS = 60_000;
const SEND_TIMEOUT_MS = 10_000;

/** What endpoint addresses this server accepts (plain http to loopback only on a development server). */
export function webhookUrlPolicy(deps: ServiceDeps): WebhookUrlPolicy {
  return { allowHttpLoopback: deps.options.webhookAllowHttpLoopback ?? false };
}

/**
 * `whsec_` and 256 bits derived from the server secret and the endpoint id: the same in every process, and
 * different for every server secret (changing SPAREKEY_SECRET changes every endpoint's). Receivers key their
 * HMAC with this whole string's UTF-8 bytes (docs/webhooks.md), not with a decoding of it.
 */
export function webhookSecret(deps: ServiceDeps, endpointId: string): string {
  return `whsec_${createHmac('sha256', deps.keys.webhookKey).update(endpointId).digest('base64url')}`;
}

export async function addWebhookEndpoint(
  deps: ServiceDeps,
  input: { url: string; events: readonly string[]; context: RequestContext },
): Promise<{ ok: true; endpoint: WebhookEndpointRecord; secret: string } | { ok: false; problem: string }> {
  const url = input.url.trim();
  const problem = webhookUrlProblem(url, webhookUrlPolicy(deps));
  if (problem) return { ok: false, problem };
  const events = webhookEventTypes.filter((type) => input.events.includes(type));
  if (events.length === 0) return { ok: false, problem: 'Choose at least one event to send.' };
  const endpoint = {
    id: deps.random.uuid(),
    url,
    events,
    createdAt: deps.clock.now(),
    createdBy: input.context.actorId ?? null,
  };
  await deps.store.transaction(async (tx) => {
    await tx.createWebhookEndpoint(endpoint);
    await tx.appendAuditEvent(
      auditEvent(endpoint.createdAt, 'webhook_endpoint_added', 'success', null, input.context, {
        endpointId: endpoint.id,
        url,
        events: events.join(' '),
      }),
    );
  });
  return {
    ok: true,
    endpoint: { ...endpoint, events: [...events] },
    secret: webhookSecret(deps, endpoint.id),
  };
}

export async function removeWebhookEndpoint(
  deps: ServiceDeps,
  input: { endpointId: string; context: RequestContext },
): Promise<boolean> {
  return deps.store.transaction(async (tx) => {
    const { deleted } = await tx.deleteWebhookEndpoint(input.endpointId);
    if (deleted) {
      await tx.appendAuditEvent(
        auditEvent(deps.clock.now(), 'webhook_endpoint_removed', 'success', null, input.context, {
          endpointId: input.endpointId,
        }),
      );
    }
    return deleted;
  });
}

/**
 * Puts one security event in the outbox of every endpoint subscribed to it. Call it with the transaction
 * that makes the change it reports: the event then exists exactly when the change does (a crash loses
 * neither alone), and the worker sends it afterwards.
 */
export async function emitWebhookEvent(
  deps: ServiceDeps,
  tx: Store,
  event: {
    type: WebhookEventType;
    at: Date;
    userId: string | null;
    context: RequestContext;
    data?: Record<string, unknown>;
  },
): Promise<void> {
  // Built only when an endpoint subscribes: most events of most sites have none, and then the user's row
  // is not read at all.
  const payload = async () => {
    const user = event.userId ? await tx.findUserById(event.userId) : undefined;
    return JSON.stringify({
      type: event.type,
      createdAt: event.at.toISOString(),
      data: {
        userId: event.userId,
        email: user?.email ?? null,
        ip: event.context.ip ?? null,
        ...event.data,
      },
    });
  };
  await tx.enqueueWebhookDeliveries({ type: event.type, payload, at: event.at }, () => deps.random.uuid());
}

export interface DeliveryRound {
  attempted: number;
  delivered: number;
  retrying: number;
  failed: number;
}

/**
 * Sends what is due, once each: claimed under a lease (so several processes never send one delivery at the
 * same time), POSTed with the documented signature, then marked delivered (any 2xx), retried with back-off,
 * or given up after WEBHOOK_MAX_ATTEMPTS. A crash between the POST and the mark sends it again after the
 * lease, with the same delivery id: at least once, and a receiver deduplicates on the id.
 */
export async function deliverDueWebhooks(deps: ServiceDeps, limit = 20): Promise<DeliveryRound> {
  const now = deps.clock.now();
  const claims = await deps.store.claimDueWebhookDeliveries(
    now,
    new Date(now.getTime() + CLAIM_LEASE_MS),
    limit,
  );
  const round: DeliveryRound = { attempted: claims.length, delivered: 0, retrying: 0, failed: 0 };
  await Promise.all(
    claims.map(async (claim) => {
      const { statusCode, error } = await sendOnce(deps, claim);
      const at = deps.clock.now();
      const outcome =
        error === null ? 'delivered' : claim.attempts >= WEBHOOK_MAX_ATTEMPTS ? 'failed' : 'retry';
      await deps.store.recordWebhookAttempt(claim.id, {
        at,
        outcome,
        statusCode,
        error,
        nextAttemptAt:
          outcome === 'retry' ? new Date(at.getTime() + webhookRetryDelayMs(claim.attempts)) : undefined,
      });
      if (outcome === 'delivered') round.delivered++;
      else if (outcome === 'retry') round.retrying++;
      else round.failed++;
    }),
  );
  return round;
}

/** One signed POST; `error` is null exactly when the receiver answered 2xx. */
async function sendOnce(
  deps: ServiceDeps,
  claim: WebhookDeliveryClaim,
): Promise<{ statusCode: number | null; error: string | null }> {
  // Checked again at each send: an endpoint added as http://localhost on a development server is not
  // sent to once the server runs without SPAREKEY_WEBHOOK_ALLOW_HTTP_LOOPBACK=on.
  const refused = webhookUrlProblem(claim.url, webhookUrlPolicy(deps));
  if (refused) return { statusCode: null, error: refused.slice(0, 200) };
  const timestamp = Math.floor(deps.clock.now().getTime() / 1000);
  try {
    const response = await deps.outboundHttp.post({
      url: claim.url,
      timeoutMs: SEND_TIMEOUT_MS,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'SpareKey-Webhooks/1',
        [WEBHOOK_HEADERS.id]: claim.id,
        [WEBHOOK_HEADERS.timestamp]: String(timestamp),
        [WEBHOOK_HEADERS.signature]: webhookSignature(
          webhookSecret(deps, claim.endpointId),
          timestamp,
          claim.payload,
        ),
      },
      body: claim.payload,
    });
    const ok = response.status >= 200 && response.status < 300;
    return { statusCode: response.status, error: ok ? null : `HTTP ${response.status}` };
  } catch (failure) {
    const error =
      failure instanceof Error
        ? (failure.cause instanceof Error ? failure.cause.message : failure.message).slice(0, 200)
        : 'unknown';
    return { statusCode: null, error };
  }
}

/** Runs deliveries in the background of a server process; returns the function that stops it. */
export function startWebhookWorker(
  deps: ServiceDeps,
  options: { intervalMs?: number; onError?: (error: unknown) => void } = {},
): () => Promise<void> {
  return startPeriodic(
    async (stopped) => {
      // Drain what is due (a batch at a time), then wait for the next tick.
      while (!stopped() && (await deliverDueWebhooks(deps)).attempted > 0) {}
    },
    { intervalMs: options.intervalMs ?? 2000, onError: options.onError },
  );
}
