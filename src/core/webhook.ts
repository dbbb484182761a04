import { createHmac } from 'node:crypto';

/** What an administrator can subscribe an endpoint to. */
export const webhookEventTypes = [
  'recovery_code.used',
  'recovery_codes.low',
  'recovery_codes.regenerated',
  'mfa.reset_by_admin',
  'mfa.locked',
  'security_key.added',
  'security_key.removed',
  'security_key.counter_regressed',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/**
 * Sent to one endpoint when an administrator presses "Send test event" (GitHub's ping). Not subscribable:
 * it reports nothing about an account, only that the endpoint, its secret and the receiver's check work.
 */
export const WEBHOOK_PING_EVENT = 'ping';

/** The headers a receiver reads (docs/webhooks.md). */
export const WEBHOOK_HEADERS = {
  id: 'sparekey-webhook-id',
  timestamp: 'sparekey-webhook-timestamp',
  signature: 'sparekey-webhook-signature',
} as const;

/** How far a receiver should accept a timestamp from its own clock (replay window). */
export const WEBHOOK_REPLAY_WINDOW_SECONDS = 300;

/**
 * `v1=` and the hex HMAC-SHA-256, keyed with the endpoint's secret, of `<timestamp>.<body>`: the timestamp
 * is signed with the body, so a captured request cannot be replayed later with a fresh timestamp.
 */
export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/**
 * Exponential back-off after each failed attempt: 10 s, 20 s, 40 s ... 2560 s, then an hour each, and
 * given up after WEBHOOK_MAX_ATTEMPTS: the 18th attempt comes 33,910 s (9 h 25 min 10 s) after the first.
 * docs/webhooks.md prints the schedule; test/service/webhooks-docs.test.ts holds it to this function.
 */
export const WEBHOOK_MAX_ATTEMPTS = 18;
export function webhookRetryDelayMs(attemptsSoFar: number): number {
  return Math.min(10_000 * 2 ** Math.max(0, attemptsSoFar - 1), 3600_000);
}

export interface WebhookUrlPolicy {
  /**
   * Plain http:// to 127.0.0.1, [::1] or localhost: a receiver under development on the same machine.
   * Off unless the operator says this SpareKey is a development one (SPAREKEY_WEBHOOK_ALLOW_HTTP_LOOPBACK):
   * guessing it from other settings would switch it on in a production started with defaults.
   */
  allowHttpLoopback: boolean;
}

/**
 * HTTPS only (plain http only to this machine, and only when the policy allows it). No credentials in
 * the URL. Returns a sentence for a person, or undefined when the URL is acceptable. Internal https
 * addresses are accepted on purpose: an administrator sets endpoints, and a SIEM on the private network
 * is the usual receiver (docs/webhooks.md, "Endpoint addresses").
 */
export function webhookUrlProblem(text: string, policy: WebhookUrlPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return 'Enter a full address like https://example.com/hooks/sparekey.';
  }
  if (url.username || url.password) return 'The address must not contain a user name or password.';
  if (url.protocol === 'https:') return undefined;
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol === 'http:' && loopback) {
    if (policy.allowHttpLoopback) return undefined;
    return 'Use an https:// address. Plain http:// to this machine is accepted only on a development server (SPAREKEY_WEBHOOK_ALLOW_HTTP_LOOPBACK=on).';
  }
  return policy.allowHttpLoopback
    ? 'Use an https:// address (plain http:// is accepted only for 127.0.0.1, [::1] or localhost).'
    : 'Use an https:// address.';
}
