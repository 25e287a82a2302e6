/**
 * Warden's egress bridge: runs inside the sandbox (whose only network is its own loopback)
 * and forwards each TCP connection on 127.0.0.1:PORT to the egress proxy's unix socket,
 * bind-mounted from the host. It moves bytes only; the proxy on the host decides.
 * Usage: node egress-bridge.mjs SOCKET PORT
 */
import * as net from 'node:net';

const [socketPath, portText] = process.argv.slice(2);
const port = Number(portText);
if (!socketPath || !Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('usage: egress-bridge SOCKET PORT\n');
  process.exit(2);
}

const server = net.createServer((client) => {
  const upstream = net.connect(socketPath);
  const close = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
});
server.on('error', (error) => {
  process.stderr.write(`egress bridge: ${error.message}\n`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening on 127.0.0.1:${port}\n`));
