import { promises as fs } from 'node:fs';
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listens on the host's loopback (a free port) and writes the port to `portFile`, where the
 * real-agent harness finds it: the sandbox reaches the mock through its exec-stream forwarder
 * (test/support/execForward.ts), never through a mounted socket, so the same path works on a
 * VM-backed engine.
 */
export async function listenOnLoopback(server: http.Server, portFile: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  await fs.writeFile(portFile, String((server.address() as AddressInfo).port));
}
