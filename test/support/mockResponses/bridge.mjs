// Runs inside the `--network none` sandbox: forwards the container's own loopback port to a
// unix socket bind-mounted from the host (the mock model server), so an agent that only
// speaks HTTP over TCP reaches it without any network being attached.
// Usage: node bridge.mjs PORT SOCKET_PATH   (prints "listening PORT" once ready)
import * as net from 'node:net';

const [port, socketPath] = process.argv.slice(2);
if (!port || !socketPath) {
  process.stderr.write('usage: node bridge.mjs PORT SOCKET_PATH\n');
  process.exit(2);
}
const server = net.createServer((client) => {
  const upstream = net.connect(socketPath);
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
