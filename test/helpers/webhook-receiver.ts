import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  /** The raw body, byte for byte, as a receiver must verify it. */
  body: Buffer;
  id: string;
  /** The status this receiver answered. */
  answered: number;
  /** An id it had already processed (answered 2xx and did nothing, as docs/webhooks.md says to). */
  duplicate: boolean;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Delivery ids processed once each, in order: what a deduplicating receiver acted on. */
  processed: string[];
  /** Resolves once `count` requests have arrived (whatever was answered). */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on 127.0.0.1 (never a mock): answers `answer(index)` for its index-th request (503
 * for the first `downFor` by default, then 200), and deduplicates on the delivery id like a receiver
 * following the docs. `answer` may wait, to hold a delivery in flight.
 */
export async function startWebhookReceiver(
  options: {
    downFor?: number;
    answer?: (index: number, request: IncomingMessage) => number | Promise<number>;
  } = {},
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const processed: string[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const answer = options.answer ?? ((index: number) => (index < (options.downFor ?? 0) ? 503 : 200));
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const index = received.length;
      const id = String(request.headers['sparekey-webhook-id']);
      const entry: ReceivedWebhook = {
        headers: request.headers,
        body: Buffer.concat(chunks),
        id,
        answered: 0,
        duplicate: processed.includes(id),
      };
      received.push(entry);
      for (const waiter of waiters.filter((w) => received.length >= w.count)) waiter.resolve();
      const status = await answer(index, request);
      entry.answered = status;
      if (status >= 200 && status < 300 && !entry.duplicate) processed.push(id);
      // The sender may be gone (killed mid-request): a failed write is its problem, not the receiver's.
      response.on('error', () => undefined);
      response.writeHead(status).end();
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/sparekey`,
    received,
    processed,
    waitForRequests: (count, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        if (received.length >= count) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`receiver got ${received.length} of ${count} requests`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
