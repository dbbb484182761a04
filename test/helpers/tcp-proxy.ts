import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay on 127.0.0.1 to a real server (PostgreSQL, or SpareKey processes behind one public address),
 * that a test can take down, bring back or point elsewhere: while
 * it is down its port is closed and every connection through it is cut, as when the database host goes
 * away. Nothing is mocked: the bytes are PostgreSQL's own.
 */
export interface TcpProxy {
  port: number;
  /** Closes the port and cuts every open connection. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /**
   * Relays new connections to `next` from now on, and cuts the open ones (a browser's or a client's
   * kept-alive connection would otherwise keep reaching the old target): a load balancer moving traffic.
   */
  retarget(next: { host: string; port: number }): void;
}

export async function startTcpProxy(initialTarget: { host: string; port: number }): Promise<TcpProxy> {
  let target = initialTarget;
  const open = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async () => {
    const next = createServer((client) => {
      const upstream = connect(target.port, target.host);
      for (const socket of [client, upstream]) {
        open.add(socket);
        socket.on('close', () => open.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => resolve());
    });
    port = (next.address() as { port: number }).port;
    server = next;
  };
  await listen();
  return {
    get port() {
      return port;
    },
    stop: async () => {
      const closing = server;
      server = undefined;
      for (const socket of open) socket.destroy();
      if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    start: listen,
    retarget: (next) => {
      target = next;
      for (const socket of open) socket.destroy();
    },
  };
}
