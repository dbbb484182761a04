/** One outbound POST: a webhook delivery. The only HTTP request SpareKey makes to other servers. */
export interface OutboundPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/**
 * Sends outbound POSTs (Node's fetch in production, src/outbound/). Redirects are never followed and the
 * response body is never read: only the status comes back, so an endpoint cannot be used to read pages of
 * the network SpareKey runs in. A network failure or timeout rejects with an Error.
 */
export interface OutboundHttp {
  post(request: OutboundPost): Promise<{ status: number }>;
}
