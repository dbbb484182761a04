import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { expect, test } from 'vitest';
import { coalescingSocket } from './coalescing-socket.js';

test('writes made in one turn leave in one writev, in order; a later turn sends its own', async () => {
  const received: Buffer[] = [];
  const server = createServer((peer: Socket) => peer.on('data', (chunk) => received.push(chunk)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = coalescingSocket();
  const batches: number[] = [];
  // net.Socket sends through _writeGeneric(writev, data, ...): one call per system call.
  type Generic = (this: Socket, writev: boolean, data: unknown, encoding: string, cb: () => void) => void;
  const target = socket as unknown as { _writeGeneric: Generic };
  const generic = target._writeGeneric;
  target._writeGeneric = function (writev, data, encoding, cb) {
    batches.push(writev && Array.isArray(data) ? data.length : 1);
    return generic.call(this, writev, data, encoding, cb);
  };
  socket.connect((server.address() as { port: number }).port, '127.0.0.1');
  await once(socket, 'connect');
  // Parse, Bind, Describe, Execute, Sync: five writes in one turn.
  for (const part of ['P', 'B', 'D', 'E', 'S']) socket.write(part);
  await new Promise((resolve) => setImmediate(resolve));
  socket.write('x');
  socket.write('y');
  await new Promise((resolve) => setImmediate(resolve));
  socket.end();
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(Buffer.concat(received).toString()).toBe('PBDESxy');
  expect(batches).toEqual([5, 2]);
  server.close();
});
