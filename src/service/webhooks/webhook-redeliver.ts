import { fail, ok, type Result } from '../../core/result.js';
import { auditEvent } from '../audit/audit.js';
import type { RequestContext, ServiceDeps } from '../deps.js';

/**
 * Redeliver from the delivery log: a delivered or given-up delivery goes back in the queue with the SAME
 * delivery id and payload (a receiver that already processed that id may rightly ignore it, as GitHub's
 * redeliveries keep their GUID), signed afresh when sent, with a fresh retry schedule. For a receiver that
 * was down past the last retry, or answered 2xx and then lost the event.
 */
export async function redeliverWebhook(
  deps: ServiceDeps,
  input: { deliveryId: string; context: RequestContext },
): Promise<Result<{ deliveryId: string }, 'webhook_delivery_not_found' | 'webhook_delivery_pending'>> {
  const at = deps.clock.now();
  return deps.store.transaction(async (tx) => {
    const delivery = await tx.findWebhookDelivery(input.deliveryId);
    if (!delivery) return fail('webhook_delivery_not_found');
    // Conditional on a finished status: a pending delivery is already queued (and perhaps being sent by a
    // worker right now), and of two administrators clicking at once only one re-queues it.
    if (!(await tx.requeueWebhookDelivery(delivery.id, at)).requeued) return fail('webhook_delivery_pending');
    await tx.appendAuditEvent(
      auditEvent(at, 'webhook_delivery_redelivered', 'success', null, input.context, {
        deliveryId: delivery.id,
        endpointId: delivery.endpointId,
        eventType: delivery.eventType,
        previousStatus: delivery.status,
        previousAttempts: delivery.attempts,
      }),
    );
    return ok({ deliveryId: delivery.id });
  });
}
