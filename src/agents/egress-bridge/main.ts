/**
 * Warden's egress bridge: runs inside the sandbox (whose only network is its own loopback),
 * listens on 127.0.0.1:PORT, and carries each connection to the egress proxy on the host as
 * a stream multiplexed over its own stdin/stdout (a `docker exec` stream: no socket, mount
 * or network is shared with the host, so it works on VM-backed and remote engines alike).
 * It moves bytes only; the proxy on the host decides. When stdin ends (Warden gone, exec
 * cut), the bridge stops listening and exits: connections are then refused, never direct.
 * Usage: node egress-bridge.mjs PORT
 */
import * as net from 'node:net';
import { MuxChannel } from '../../core/egress/mux/channel';
import { PROTOCOL_VERSION } from '../../core/egress/mux/frames';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('usage: egress-bridge PORT\n');
  process.exit(2);
}

const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  if (!channel.alive) return socket.destroy();
  const stream = channel.open();
  socket.pipe(stream);
  stream.pipe(socket);
  socket.on('error', () => stream.destroy());
  stream.on('error', () => socket.destroy());
  // An abrupt end on one side resets the other; a clean one finishes through the pipes.
  socket.on('close', (hadError) => {
    if (hadError || !socket.readableEnded) stream.destroy();
  });
  stream.on('close', () => {
    if (!stream.readableEnded) socket.destroy();
  });
});

const channel = new MuxChannel({
  input: process.stdin,
  output: process.stdout,
  role: 'bridge',
  onClose: (reason) => {
    process.stderr.write(`egress bridge: channel closed (${reason}); refusing connections\n`);
    server.close();
    process.exit(0);
  },
});

server.on('error', (error) => {
  process.stderr.write(`egress bridge: ${error.message}\n`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => channel.hello(Buffer.from(JSON.stringify({ version: PROTOCOL_VERSION, port }))));
