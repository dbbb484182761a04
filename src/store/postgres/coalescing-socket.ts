import { Socket } from 'node:net';

/**
 * The socket each pooled PostgreSQL connection talks through: a plain TCP socket whose writes made in one
 * turn of the event loop leave together. node-postgres sends a parameterized statement as five protocol
 * messages (Parse, Bind, Describe, Execute, Sync), each its own `socket.write`, so each its own system call
 * and, on a busy machine, its own wake-up of the database's backend; with the socket corked from the first
 * write until the turn's next tick they go out as one `writev`. The bytes and their order are unchanged,
 * and nothing waits: the turn that wrote them is the one that sends them. (With TLS, node-postgres writes
 * through a TLS socket layered on this one, which sends without this `write`: nothing changes then.)
 */
export function coalescingSocket(): Socket {
  const socket = new Socket();
  const write = Socket.prototype.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  const coalescingWrite = function (this: Socket, ...args: Parameters<Socket['write']>) {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write.apply(this, args);
  } as Socket['write'];
  // net.Socket's connect() puts back the prototype's write (it may have been swapped for a closed socket's),
  // so ours goes in after it.
  const connect = socket.connect;
  socket.connect = function (this: Socket, ...args: unknown[]) {
    const connecting = (connect as (...a: unknown[]) => Socket).apply(this, args);
    socket.write = coalescingWrite;
    return connecting;
  } as Socket['connect'];
  return socket;
}
