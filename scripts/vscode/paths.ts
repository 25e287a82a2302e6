import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Where scripts/bootstrap/vscode-server.sh caches the offline VS Code server and its Node 24. */
export function vscodeServerPaths(): { cache: string; node: string; serverMain: string } {
  const cache = process.env.WARDEN_CACHE ?? path.join(os.homedir(), '.cache', 'warden-dev');
  const version = process.env.WARDEN_CODE_SERVER_VERSION ?? '4.139.1';
  const node = path.join(cache, 'node24', 'bin', 'node');
  const serverMain = path.join(cache, `code-server-${version}`, 'node_modules', 'code-server', 'lib', 'vscode', 'out', 'server-main.js');
  for (const required of [node, serverMain]) {
    if (!existsSync(required)) {
      throw new Error(
        `${required} is missing: run \`bash scripts/bootstrap/vscode-server.sh\` (or \`npm test\`, which does it) to install the offline VS Code server.`,
      );
    }
  }
  return { cache, node, serverMain };
}
