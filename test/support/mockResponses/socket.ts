import { promises as fs } from 'node:fs';
import type * as http from 'node:http';

/** Listens on a unix socket the sandbox user (uid 1000 in the container) may connect to. */
export async function listenForSandbox(server: http.Server, socketPath: string): Promise<void> {
  await fs.rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  // Connecting needs write permission on the socket.
  await fs.chmod(socketPath, 0o777);
}
