import * as path from 'node:path';

/** The file name of the built-in demo agent inside the bundled agents folder. */
export const DEMO_AGENT_FILE = 'demo-agent.mjs';

/**
 * The argv that starts the agent inside the container. An empty setting means the built-in
 * demo agent (mounted read-only from the extension); anything else is a command line run by
 * the container's shell, as a user would type it in the dev container's terminal.
 */
export function agentArgv(configuredCommand: string | undefined, agentsFolder: string): { argv: string[]; label: string } {
  const command = configuredCommand?.trim();
  if (!command) {
    return { argv: ['node', path.posix.join(agentsFolder, DEMO_AGENT_FILE)], label: 'warden-demo-agent' };
  }
  return { argv: ['sh', '-c', `exec ${command}`], label: command };
}

/** A display form of an argv: words with shell-special characters are single-quoted. */
export function displayCommandLine(argv: readonly string[]): string {
  return argv.map(quoteWord).join(' ');
}

function quoteWord(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
