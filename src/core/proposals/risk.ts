import { analyzeShell } from '../policy/shell';
import type { Proposal } from './model';
import type { RiskKind, RiskLabel } from './riskLabel';

/**
 * The risk labels a reviewer sees on a proposal: protected path, irreversible, network,
 * outside scope (plus a command Warden cannot read and a policy limit). Taken from the
 * policy's own verdict where it gave one (its labels and reason), and from the proposal
 * itself for what the policy does not label (a command that reaches the network).
 */
export function riskLabels(proposal: Proposal): RiskLabel[] {
  const labels = new Map<RiskKind, RiskLabel>();
  const add = (kind: RiskKind, label: string, reason: string): void => {
    if (!labels.has(kind)) labels.set(kind, { kind, label, reason });
  };
  const policy = proposal.policy;
  for (const text of policy?.labels ?? []) {
    const [prefix = '', ...rest] = text.split(':');
    const detail = rest.join(':').trim();
    const reason = policy?.reason ?? text;
    if (prefix === 'protected path') add('protected', 'Protected path', reason);
    else if (prefix === 'irreversible') add('irreversible', 'Irreversible', reason);
    else if (prefix === 'shell') add('unclear', 'Unclear command', reason);
    else if (prefix === 'limit') add('limit', 'Over a limit', reason);
    else if (detail === '') add('unclear', text, reason);
  }
  if (proposal.kind === 'edit' && proposal.sandboxChange?.change === 'delete')
    add('irreversible', 'Irreversible', policy?.reason ?? `Deletes ${proposal.path}`);
  const decision = proposal.decision;
  if (decision?.reviewer.source === 'session scope')
    add('outside-scope', 'Outside scope', decision.reason ?? "Outside this session's scope");
  const commandLine =
    proposal.kind === 'command' ? proposal.commandLine : proposal.kind === 'permission' ? proposal.commandLine : undefined;
  if (proposal.kind === 'permission' && proposal.toolKind === 'fetch')
    add('network', 'Network', 'The agent asks to fetch from the network; only hosts on the sandbox egress allow-list answer');
  const tool = commandLine === undefined ? undefined : networkTool(commandLine);
  if (tool)
    add(
      'network',
      'Network',
      `${tool} reaches the network; only hosts on the sandbox egress allow-list answer, and each request is audited`,
    );
  return [...labels.values()];
}

/** Programs (and subcommands) that talk to the network. */
const NETWORK_PROGRAMS = new Set([
  'curl',
  'wget',
  'ssh',
  'scp',
  'sftp',
  'rsync',
  'nc',
  'ncat',
  'netcat',
  'telnet',
  'ftp',
  'http',
  'https',
  'apt',
  'apt-get',
  'dig',
  'nslookup',
  'ping',
]);
const NETWORK_SUBCOMMANDS: Record<string, ReadonlySet<string>> = {
  git: new Set(['clone', 'fetch', 'pull', 'push', 'ls-remote', 'submodule']),
  npm: new Set(['install', 'i', 'ci', 'add', 'update', 'publish', 'view', 'info', 'exec']),
  npx: new Set(['*']),
  pnpm: new Set(['install', 'i', 'add', 'update', 'publish', 'dlx']),
  yarn: new Set(['install', 'add', 'upgrade', 'publish', 'dlx']),
  pip: new Set(['install', 'download']),
  pip3: new Set(['install', 'download']),
  cargo: new Set(['install', 'fetch', 'update', 'publish']),
  go: new Set(['get', 'install', 'mod']),
  docker: new Set(['pull', 'push', 'login']),
  gem: new Set(['install', 'push']),
};

/** The first command of the line that reaches the network, as the reviewer reads it (e.g. "git push"). */
function networkTool(commandLine: string): string | undefined {
  const analysis = analyzeShell(commandLine);
  for (const command of analysis.commands) {
    const words = command.argv.map((w) => w.text);
    const program = (words[0] ?? '').split('/').pop() ?? '';
    if (NETWORK_PROGRAMS.has(program)) return program;
    const subcommands = NETWORK_SUBCOMMANDS[program];
    const sub = words.slice(1).find((w) => !w.startsWith('-'));
    if (subcommands && (subcommands.has('*') || (sub !== undefined && subcommands.has(sub))))
      return sub === undefined ? program : `${program} ${sub}`;
  }
  return undefined;
}
