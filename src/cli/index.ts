// The `warden` bin (bundled to dist/cli.js): the headless CLI on the extension's core.
import * as path from 'node:path';
import { runCli } from './main';

const io = {
  stdout: (text: string) => void process.stdout.write(text),
  stderr: (text: string) => void process.stderr.write(text),
  cwd: process.cwd(),
  env: process.env,
  // The bundled agents live next to this file: dist/cli.js and dist/agents/.
  agentsHostPath: path.join(__dirname, 'agents'),
};

void runCli(process.argv.slice(2), io).then((code) => {
  process.exitCode = code;
  // Let stdout drain, then leave even if a Docker socket keeps the loop alive.
  process.stdout.write('', () => process.exit(code));
});
