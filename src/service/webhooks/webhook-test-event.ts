import { fail, ok, type Result } from '../../core/result.js';
import { WEBHOOK_PING_EVENT } from '../../core/webhook.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';

/**
 * "Send test event" (GitHub's ping): one `ping` delivery to one endpoint, whatever it subscribes to, through
 * the same outbox as real events, so it is signed, retried and logged exactly like them and an
 * administrator sees in the delivery log whether the receiver and its signature check work.
 */
export async function sendWebhookTestEvent(
  deps: ServiceDeps,
  input: { endpointId: string; context: RequestContext },
): Promise<Result<{ deliveryId: string }, 'webhook_endpoint_not_found'>> {
  const at = deps.clock.now();
  const deliveryId = deps.random.uuid();
  // Nothing about any account: a receiver can tell it from a real event by its type alone.
  const payload = JSON.stringify({
    type: WEBHOOK_PING_EVENT,
    createdAt: at.toISOString(),
    data: { endpointId: input.endpointId },
  });
  return deps.store.transaction(async (tx) => {
    const queued = await tx.enqueueWebhookDeliveryTo(input.endpointId, {
      id: deliveryId,
      type: WEBHOOK_PING_EVENT,
      payload,
      at,
    });
    if (!queued.enqueued) return fail('webhook_endpoint_not_found');
    await tx.appendAuditEvent(
      auditEvent(at, 'webhook_test_event_sent', 'success', null, input.context, {
        endpointId: input.endpointId,
        deliveryId,
      }),
    );
    return ok({ deliveryId });
  });
}
