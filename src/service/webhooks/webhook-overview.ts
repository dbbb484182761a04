import type { WebhookDeliveryRecord, WebhookEndpointRecord } from '../../store/store.js';
import type { ServiceDeps } from '../deps.js';

export type { WebhookDeliveryRecord, WebhookEndpointRecord };

export interface WebhookOverview {
  endpoints: WebhookEndpointRecord[];
  /** The latest deliveries, newest first. */
  deliveries: WebhookDeliveryRecord[];
}

/** What the administrator's webhook page shows: every endpoint and the latest deliveries. */
export async function getWebhookOverview(
  deps: ServiceDeps,
  input: { deliveries: number },
): Promise<WebhookOverview> {
  return {
    endpoints: await deps.store.listWebhookEndpoints(),
    deliveries: await deps.store.listWebhookDeliveries(input.deliveries),
  };
}
