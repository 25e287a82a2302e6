// The `warden` bin (bundled to dist/cli.js): the headless CLI on the extension's core.
import * as path from 'node:path';
import * as readline from 'node:readline/promises';
import { runCli } from './main';

const io = {
  stdout: (text: string) => void process.stdout.write(text),
  stderr: (text: string) => void process.stderr.write(text),
  cwd: process.cwd(),
  env: process.env,
  // The bundled agents live next to this file: dist/cli.js and dist/agents/.
  agentsHostPath: path.join(__dirname, 'agents'),
  ...(process.stdin.isTTY && process.stdout.isTTY
    ? {
        ask: async (question: string): Promise<string> => {
          const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
          try {
            return await rl.question(question);
          } finally {
            rl.close();
          }
        },
      }
    : {}),
};

void runCli(process.argv.slice(2), io).then((code) => {
  process.exitCode = code;
  // Let stdout drain, then leave even if a Docker socket keeps the loop alive.
  process.stdout.write('', () => process.exit(code));
});
