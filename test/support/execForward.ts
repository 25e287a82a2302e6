import * as net from 'node:net';
import * as path from 'node:path';
import { MuxChannel } from '../../src/core/egress/mux/channel';
import { parseHello } from '../../src/core/egress/mux/hello';
import type { AgentProcess, Sandbox } from '../../src/core/sandbox/types';

/**
 * Test-only port forward into a `--network none` sandbox over the same transport as egress:
 * Warden's bundled bridge (egress-bridge.mjs) listens on the container's loopback `port` and
 * multiplexes its connections over its `docker exec` stdio; here each one is piped to
 * `127.0.0.1:hostPort` on the host. Nothing is mounted and no network is attached, so it works
 * on any engine the exec API reaches (a VM, a remote machine). Production egress never
 * forwards like this: it hands the streams to the allow-list proxy.
 */
export async function forwardIntoSandbox(sandbox: Sandbox, bridgeFolder: string, port: number, hostPort: number): Promise<AgentProcess> {
  const bridge = await sandbox.execAgent(['node', path.posix.join(bridgeFolder, 'egress-bridge.mjs'), String(port)]);
  let stderr = '';
  bridge.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const failure = await new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => resolve('no hello within 15 s'), 15_000);
    new MuxChannel({
      input: bridge.stdout,
      output: bridge.stdin,
      role: 'host',
      onHello: (payload) => {
        clearTimeout(timer);
        const hello = parseHello(payload);
        resolve(hello.ok ? undefined : hello.reason);
      },
      onOpen: (stream) => {
        const upstream = net.connect(hostPort, '127.0.0.1');
        stream.pipe(upstream).pipe(stream);
        upstream.on('error', () => stream.destroy());
        stream.on('error', () => upstream.destroy());
        stream.on('close', () => upstream.destroy());
        upstream.on('close', () => stream.end());
      },
      onClose: (reason) => {
        clearTimeout(timer);
        resolve(`the forwarder's stream ended (${reason})`);
      },
    });
  });
  if (failure !== undefined) {
    await bridge.kill().catch(() => undefined);
    throw new Error(`The exec-stream forwarder to the mock model did not start: ${failure} ${stderr.trim()}`);
  }
  return bridge;
}
