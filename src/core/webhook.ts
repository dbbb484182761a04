import { createHmac } from 'node:crypto';

/** What an administrator can subscribe an endpoint to. */
export const webhookEventTypes = [
  'recovery_code.used',
  'recovery_codes.low',
  'recovery_codes.regenerated',
  'mfa.reset_by_admin',
  'mfa.locked',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

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

/** Exponential back-off: 10 s, 20 s, 40 s ... capped at an hour; given up after MAX attempts (~14 hours). */
export const WEBHOOK_MAX_ATTEMPTS = 18;
export function webhookRetryDelayMs(attemptsSoFar: number): number {
  return Math.min(10_000 * 2 ** Math.max(0, attemptsSoFar - 1), 3600_000);
}

/**
 * HTTPS only, except plain http to this machine (a receiver under development). No credentials in the
 * URL. Returns a sentence for a person, or undefined when the URL is acceptable.
 */
export function webhookUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return 'Enter a full address like https://example.com/hooks/sparekey.';
  }
  if (url.username || url.password) return 'The address must not contain a user name or password.';
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && loopback) return undefined;
  return 'Use an https:// address (plain http:// is allowed only for 127.0.0.1 or localhost, in development).';
}
