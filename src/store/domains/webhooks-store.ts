import type { WriteOutcome } from '../write-outcome.js';
/** Security webhooks: endpoints, and the deliveries that are both the outbox and the delivery log. */
export interface WebhooksStore {
  createWebhookEndpoint(endpoint: NewWebhookEndpoint): Promise<void>;
  listWebhookEndpoints(): Promise<WebhookEndpointRecord[]>;
  deleteWebhookEndpoint(id: string): Promise<WriteOutcome<'deleted'>>;
  /**
   * One pending delivery per endpoint subscribed to the event's type; run it in the event's transaction.
   * `payload` is called (once) only when there is at least one such endpoint.
   */
  enqueueWebhookDeliveries(
    event: { type: string; payload: () => Promise<string>; at: Date },
    newId: () => string,
  ): Promise<number>;
  /** Claims due deliveries for one attempt each, hidden from other workers until `leaseUntil`. */
  claimDueWebhookDeliveries(at: Date, leaseUntil: Date, limit: number): Promise<WebhookDeliveryClaim[]>;
  /** Records an attempt's outcome while the delivery is pending; `recorded` is false when it no longer was. */
  recordWebhookAttempt(id: string, result: WebhookDeliveryResult): Promise<WriteOutcome<'recorded'>>;
  /** One pending delivery to one endpoint, whatever it subscribes to (a test event); `enqueued` is false when it is gone. */
  enqueueWebhookDeliveryTo(
    endpointId: string,
    delivery: { id: string; type: string; payload: string; at: Date },
  ): Promise<WriteOutcome<'enqueued'>>;
  /** The newest deliveries first, for the delivery log. */
  listWebhookDeliveries(limit: number): Promise<WebhookDeliveryRecord[]>;
  findWebhookDelivery(id: string): Promise<WebhookDeliveryRecord | undefined>;
  /**
   * Puts a finished (delivered or failed) delivery back in the queue, due at `at`, with the same id and a
   * fresh attempt count; `requeued` is false when there is no such delivery or it is still pending (one winner).
   */
  requeueWebhookDelivery(id: string, at: Date): Promise<WriteOutcome<'requeued'>>;
}

export interface NewWebhookEndpoint {
  id: string;
  url: string;
  events: readonly string[];
  createdAt: Date;
  createdBy: string | null;
}

export interface WebhookEndpointRecord {
  id: string;
  url: string;
  events: string[];
  createdAt: Date;
  createdBy: string | null;
}

export interface WebhookDeliveryClaim {
  id: string;
  endpointId: string;
  url: string;
  eventType: string;
  payload: string;
  /** Including the attempt just claimed. */
  attempts: number;
  createdAt: Date;
}

export interface WebhookDeliveryResult {
  at: Date;
  outcome: 'delivered' | 'retry' | 'failed';
  statusCode: number | null;
  error: string | null;
  /** When to try again (outcome `retry`). */
  nextAttemptAt?: Date;
}

export interface WebhookDeliveryRecord {
  id: string;
  endpointId: string;
  url: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  createdAt: Date;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  nextAttemptAt: Date;
}
