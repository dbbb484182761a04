import type { OutboundHttp } from '../service/ports/outbound-http.js';

/** The production OutboundHttp: Node's fetch, no redirects followed, the body discarded unread. */
export const fetchOutboundHttp: OutboundHttp = {
  async post(request) {
    const response = await fetch(request.url, {
      method: 'POST',
      // A redirect is a failure, not followed: the administrator chose this address and no other.
      redirect: 'manual',
      signal: AbortSignal.timeout(request.timeoutMs),
      headers: request.headers,
      body: request.body,
    });
    await response.body?.cancel();
    return { status: response.status };
  },
};
