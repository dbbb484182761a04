import type { FastifyReply } from 'fastify';

/**
 * A throttled attempt's wait, as the `Retry-After` header of its 429 (RFC 9110 10.2.3), for the pages and
 * the JSON API alike. Other failures carry no wait and set nothing.
 */
export function noteRetryAfter(reply: FastifyReply, failure: { retryAfterSeconds?: number }): void {
  if (failure.retryAfterSeconds !== undefined) {
    reply.header('retry-after', String(Math.max(1, failure.retryAfterSeconds)));
  }
}
