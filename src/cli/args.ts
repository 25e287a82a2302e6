import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AgentPresetId } from '../core/agent/presets';
import { SETUP_PRESET_IDS, SetupPresetId } from '../core/agent/setup';
import { UsageError } from './exitCodes';

/** One command of the CLI: its words, options and help. */
interface CommandSpec {
  name: CommandName;
  usage: string;
  summary: string;
  /** Help text after the usage line (options, notes). */
  details: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** How many positional arguments it takes at most. */
  positionals: number;
}

export type CommandName =
  | 'run'
  | 'agent setup'
  | 'audit verify'
  | 'audit export'
  | 'audit anchor'
  | 'audit report'
  | 'audit blame'
  | 'policy check'
  | 'policy test'
  | 'policy explain';

export type OnAsk = 'reject' | 'fail';

export type ParsedCommand =
  | { command: 'help'; text: string }
  | { command: 'version' }
  | {
      command: 'run';
      workspace: string;
      agent: string;
      prompt: string;
      policy?: string;
      onAsk: OnAsk;
      timeoutSeconds?: number;
      dockerHost?: string;
      workspaceMode?: 'readonly' | 'copy';
      json: boolean;
      preset?: string;
      protocol?: 'acp' | 'codex-app-server';
      secretEnv?: Array<{ name: string; file: string }>;
    }
  | { command: 'agent setup'; workspace: string; preset: SetupPresetId; yes: boolean }
  | { command: 'audit verify'; workspace: string; json: boolean }
  | { command: 'audit export'; workspace: string; format: 'json' | 'csv'; output?: string }
  | { command: 'audit anchor'; workspace: string; note: boolean; json: boolean }
  | { command: 'audit report'; workspace: string; range: string; json: boolean }
  | { command: 'audit blame'; workspace: string; target: string; file?: string; json: boolean }
  | { command: 'policy check'; workspace: string; file?: string; json: boolean }
  | { command: 'policy test'; workspace: string; file?: string; json: boolean }
  | { command: 'policy explain'; workspace: string; file?: string; subject: { command: string } | { write: string }; json: boolean };

const HELP = { type: 'boolean', short: 'h' } as const;
const WORKSPACE = { type: 'string', short: 'w' } as const;
const JSON_FLAG = { type: 'boolean' } as const;

const COMMANDS: CommandSpec[] = [
  {
    name: 'run',
    usage:
      'warden run --workspace DIR --agent CMD --prompt TEXT [--policy FILE] [--on-ask reject|fail] [--timeout SECONDS] [--docker-host URL] [--workspace-mode copy|readonly] [--preset NAME] [--protocol acp|codex-app-server] [--secret-env NAME=FILE]... [--json]',
    summary: 'Run one supervised agent session in the sandbox, with nobody there to answer.',
    details: `Options:
  -w, --workspace DIR     The workspace the agent works on (never writable from the sandbox). Default: the current folder.
  -a, --agent CMD         Command line starting an ACP agent inside the container (run by its shell).
                          Empty or "demo": Warden's built-in demo agent.
  -p, --prompt TEXT       The instruction sent to the agent (required).
      --policy FILE       Team policy file to use instead of the workspace's .warden/policy.json
                          (keep it outside the repository so a change under review cannot loosen it).
      --on-ask MODE       What happens to a proposal the policy leaves to a human ("ask"):
                          reject (default): it is rejected and the agent is told;
                          fail: it is rejected, the session is stopped and warden exits with code 3.
      --timeout SECONDS   Stop the session (kill switch) after this long; exits with code 7.
      --docker-host URL   Container engine (unix://, tcp:// with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH,
                          ssh://user@host) or a Docker context name. Default: DOCKER_HOST, then
                          the current Docker context, then the local socket.
      --workspace-mode M  copy: the agent works on a private copy; what it changes there on its own
                          becomes proposals, decided by the policy (asks are rejected).
                          readonly: the workspace is mounted read-only.
                          Default: warden.sandbox.workspaceMode of the workspace's .vscode/settings.json, else copy.
      --preset NAME       An agent preset: gemini, codex-acp, codex-app-server, claude, copilot, opencode
                          (its command, protocol and API key variable); --agent replaces its command.
      --protocol P        acp (default) or codex-app-server, for a custom --agent command.
      --secret-env NAME=FILE
                          Give the agent process (only it) the variable NAME with the contents of
                          FILE, e.g. --secret-env OPENAI_API_KEY=/run/secrets/openai. Repeatable.
                          Host environment variables never reach the agent.
      --json              Print the summary as one JSON object on stdout.
  -h, --help              Show this help.

Allowed and denied proposals are decided by the policy; everything is recorded in
.warden/audit/ of the workspace. The summary lists proposals by kind and decision and the
files changed.`,
    options: {
      workspace: WORKSPACE,
      agent: { type: 'string', short: 'a' },
      prompt: { type: 'string', short: 'p' },
      policy: { type: 'string' },
      'on-ask': { type: 'string' },
      'workspace-mode': { type: 'string' },
      timeout: { type: 'string' },
      'docker-host': { type: 'string' },
      preset: { type: 'string' },
      protocol: { type: 'string' },
      'secret-env': { type: 'string', multiple: true },
      json: JSON_FLAG,
      help: HELP,
    },
    positionals: 0,
  },
  {
    name: 'agent setup',
    usage: 'warden agent setup PRESET [--workspace DIR] [--yes]',
    summary: 'Make every change an agent preset needs (sandbox image, policy network.allow), each shown as a diff first.',
    details: `Arguments:
  PRESET                ${SETUP_PRESET_IDS.join(', ')}.
Options:
  -w, --workspace DIR   The workspace to set up. Default: the current folder.
  -y, --yes             Apply every change without asking. Without it, each change is asked on a
                        terminal; with no terminal the diffs are printed, nothing is written and
                        warden exits with code 2.
  -h, --help            Show this help.

Changes: the install line in the Dockerfile of .devcontainer/devcontainer.json (both created
when absent; an "image" definition becomes a Dockerfile FROM that image), the model host in
.warden/policy.json's network.allow (comments and formatting kept). Running it again changes
nothing. A file that does not parse is reported as FILE:LINE:COLUMN and left untouched (exit 3
for the policy, 5 for the sandbox definition). The API key is not stored by the CLI: pass it to
warden run with --secret-env NAME=FILE.`,
    options: { workspace: WORKSPACE, yes: { type: 'boolean', short: 'y' }, help: HELP },
    positionals: 1,
  },
  {
    name: 'audit verify',
    usage: 'warden audit verify [--workspace DIR] [--json]',
    summary: 'Check every audit chain end to end, and the git anchors that name them.',
    details: `Options:
  -w, --workspace DIR   The workspace whose .warden/audit/ is checked. Default: the current folder.
      --json            Print the report as one JSON object (one result per chain and per anchor).
  -h, --help            Show this help.

Each chain (one per session or writer, plus the legacy single chain of older logs) is checked on
its own and reported on its own line, with its first break; a break in one hides no other. Every
anchor (Warden-Audit-Chain trailers of commits, notes) must still be found: a chain a commit
names that is gone or shorter is reported. Exits 0 when all holds, 6 otherwise. Never modifies anything.`,
    options: { workspace: WORKSPACE, json: JSON_FLAG, help: HELP },
    positionals: 0,
  },
  {
    name: 'audit export',
    usage: 'warden audit export --format json|csv [--workspace DIR] [--output FILE]',
    summary: 'Export every audit entry as JSON (with the verify report) or CSV.',
    details: `Options:
      --format FORMAT   json (the entries exactly as recorded, with the verify result) or csv (one row per entry).
  -w, --workspace DIR   The workspace whose .warden/audit/ is exported. Default: the current folder.
  -o, --output FILE     Write to FILE instead of stdout.
  -h, --help            Show this help.`,
    options: { format: { type: 'string', short: 'f' }, workspace: WORKSPACE, output: { type: 'string', short: 'o' }, help: HELP },
    positionals: 0,
  },
  {
    name: 'audit anchor',
    usage: 'warden audit anchor [--workspace DIR] [--note] [--json]',
    summary: 'Anchor the head of every intact audit chain in git (a commit of .warden/audit/, or a note).',
    details: `Options:
  -w, --workspace DIR   The workspace (a git repository). Default: the current folder.
      --note            Add a git note on HEAD (ref refs/notes/warden-audit) instead of committing.
      --json            Print the result as one JSON object.
  -h, --help            Show this help.

By default commits .warden/audit/ (only that path) with one "Warden-Audit-Chain: <chain> <seq>
<sha256>" trailer per chain, so the log and its anchors travel with the branch. Use it for work
committed by other means than Warden's Commit Approved Changes. Broken chains are not anchored.`,
    options: { workspace: WORKSPACE, note: { type: 'boolean' }, json: JSON_FLAG, help: HELP },
    positionals: 0,
  },
  {
    name: 'audit report',
    usage: 'warden audit report --range A..B [--workspace DIR] [--json]',
    summary: 'Summarise the agent sessions behind the commits of a range (Markdown, or JSON), for a pull request.',
    details: `Options:
  -r, --range A..B      The commits to report on, as git log takes them (e.g. main..HEAD).
  -w, --workspace DIR   The workspace (a git repository). Default: the current folder.
      --json            Print the report as one JSON object instead of Markdown.
  -h, --help            Show this help.

Sessions are found through the commits' Warden-Session and Warden-Audit-Chain trailers. The
report lists each session's developer, agent, instruction, approvals, policy decisions and
rejections, and whether every chain and anchor verifies. Exits 6 when they do not.`,
    options: { range: { type: 'string', short: 'r' }, workspace: WORKSPACE, json: JSON_FLAG, help: HELP },
    positionals: 0,
  },
  {
    name: 'audit blame',
    usage: 'warden audit blame <REV | A..B> [--file PATH] [--workspace DIR] [--json]',
    summary: 'Say which agent sessions and approvals stand behind each line a commit or a range changed.',
    details: `Arguments:
  REV | A..B            A commit or branch (the lines it added against its first parent), or a
                        range such as main..HEAD (the lines the range adds, each with its commit).
Options:
      --file PATH       Blame every line of one file (at REV; REV "." means the file on disk).
  -w, --workspace DIR   The workspace (a git repository). Default: the current folder.
      --json            Print the blame as one JSON object.
  -h, --help            Show this help.

A commit is tied to sessions by its Warden-Session, Warden-Audit and Warden-Audit-Chain trailers
and the log's git.committed entries; a line to the approved edit whose recorded diff added it
(same path, same text). Lines no approved edit added are listed as such.`,
    options: { file: { type: 'string' }, workspace: WORKSPACE, json: JSON_FLAG, help: HELP },
    positionals: 1,
  },
  {
    name: 'policy check',
    usage: 'warden policy check [FILE] [--workspace DIR] [--json]',
    summary: 'Validate a policy file; problems are printed as FILE:LINE:COLUMN: message.',
    details: `Arguments:
  FILE                  The policy file. Default: .warden/policy.json of the workspace.
Options:
  -w, --workspace DIR   Default: the current folder.
      --json            Print the result as one JSON object.
  -h, --help            Show this help.

Exits 0 when the file is valid, 3 when it is not (or does not exist).`,
    options: { workspace: WORKSPACE, json: JSON_FLAG, help: HELP },
    positionals: 1,
  },
  {
    name: 'policy test',
    usage: 'warden policy test [FILE] [--workspace DIR] [--json]',
    summary: 'Check the "examples" of a policy file against the policy itself.',
    details: `Arguments:
  FILE                  The policy file. Default: .warden/policy.json of the workspace.
Options:
  -w, --workspace DIR   Default: the current folder.
      --json            Print the results as one JSON object.
  -h, --help            Show this help.

Exits 0 when every example gets the expected decision, 3 when one does not or the file is invalid.`,
    options: { workspace: WORKSPACE, json: JSON_FLAG, help: HELP },
    positionals: 1,
  },
  {
    name: 'policy explain',
    usage: 'warden policy explain (--command TEXT | --write PATH) [--policy FILE] [--workspace DIR] [--json]',
    summary: 'Say what the policy decides for a command line or a file write, which rule decides, and why.',
    details: `Options:
      --command TEXT    A shell command line, as the agent would ask to run it.
      --write PATH      A workspace-relative path the agent would write.
      --policy FILE     The policy file. Default: .warden/policy.json of the workspace.
  -w, --workspace DIR   Default: the current folder.
      --json            Print the verdict as one JSON object.
  -h, --help            Show this help.

Prints allow, ask or deny with the rule id and the reason. Exits 0 (3 if the policy is invalid).`,
    options: {
      command: { type: 'string' },
      write: { type: 'string' },
      policy: { type: 'string' },
      workspace: WORKSPACE,
      json: JSON_FLAG,
      help: HELP,
    },
    positionals: 0,
  },
];

export const VERSION = '0.1.0';

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `warden ${VERSION}: run a coding agent in a sandbox, headless, with the team policy and the audit log.

Usage: warden <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run "warden <command> --help" for a command's options.

Exit codes:
  0  success
  1  internal error (a bug in Warden)
  2  bad usage
  3  policy failure (an ask under --on-ask fail, an invalid policy, a failing policy test)
  4  agent failure (crashed, exited mid-turn, broke the protocol, did not end its turn)
  5  sandbox failure (Docker engine, image or container)
  6  audit verify failure (broken chain or git anchor)
  7  timeout (run --timeout elapsed; the session was stopped)
  130  interrupted (run stopped by SIGINT or SIGTERM; the session was stopped)
`;
}

export function commandHelp(name: CommandName): string {
  const spec = COMMANDS.find((c) => c.name === name)!;
  return `Usage: ${spec.usage}\n\n${spec.summary}\n\n${spec.details}\n`;
}

/** Parses the words after `warden`. Throws UsageError with one line saying what is wrong. */
export function parseCommandLine(argv: readonly string[]): ParsedCommand {
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    if (first === 'help' && second) return { command: 'help', text: commandHelp(findSpec([second, argv[2]]).spec.name) };
    return { command: 'help', text: mainHelp() };
  }
  if (first === '--version' || first === '-V') return { command: 'version' };
  const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
  if (group.length > 0 && (second === '--help' || second === '-h')) {
    return {
      command: 'help',
      text: `Usage: warden ${first} <command> [options]\n\n${group.map((c) => `  ${c.usage}\n      ${c.summary}`).join('\n')}\n`,
    };
  }
  const { spec, words } = findSpec(argv);
  const rest = argv.slice(words);
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...rest], options: spec.options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]!.replace(/\.$/, '')} (see "warden ${spec.name} --help")`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help', text: commandHelp(spec.name) };
  if (positionals.length > spec.positionals) {
    throw new UsageError(
      `unexpected argument "${positionals[spec.positionals]}" for "warden ${spec.name}" (see "warden ${spec.name} --help")`,
    );
  }
  const str = (key: string): string | undefined => values[key] as string | undefined;
  const workspace = str('workspace') ?? '.';
  const json = values.json === true;
  switch (spec.name) {
    case 'run': {
      const prompt = str('prompt');
      if (prompt === undefined || prompt.trim() === '')
        throw new UsageError('missing --prompt TEXT: the instruction for the agent (see "warden run --help")');
      const onAsk = str('on-ask') ?? 'reject';
      if (onAsk !== 'reject' && onAsk !== 'fail') throw new UsageError(`--on-ask must be "reject" or "fail", not "${onAsk}"`);
      const timeout = str('timeout');
      let timeoutSeconds: number | undefined;
      if (timeout !== undefined) {
        timeoutSeconds = Number(timeout);
        if (!/^\d+(\.\d+)?$/.test(timeout.trim()) || !(timeoutSeconds > 0))
          throw new UsageError(`--timeout must be a positive number of seconds, not "${timeout}"`);
      }
      const workspaceMode = str('workspace-mode');
      if (workspaceMode !== undefined && workspaceMode !== 'copy' && workspaceMode !== 'readonly')
        throw new UsageError(`--workspace-mode must be "copy" or "readonly", not "${workspaceMode}"`);
      const agent = str('agent') ?? '';
      const preset = str('preset');
      if (preset !== undefined && !AgentPresetId.safeParse(preset).success) {
        throw new UsageError(`--preset must be one of ${AgentPresetId.options.join(', ')}; not "${preset}"`);
      }
      const protocol = str('protocol');
      if (protocol !== undefined && protocol !== 'acp' && protocol !== 'codex-app-server')
        throw new UsageError(`--protocol must be "acp" or "codex-app-server", not "${protocol}"`);
      const secretEnv = ((values['secret-env'] as unknown as string[] | undefined) ?? []).map((spec) => {
        const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(spec);
        if (!match) throw new UsageError(`--secret-env must be NAME=FILE (a variable name and the file holding its value), not "${spec}"`);
        return { name: match[1]!, file: match[2]! };
      });
      return {
        command: 'run',
        workspace,
        agent: agent.trim() === 'demo' ? '' : agent,
        prompt,
        ...(str('policy') !== undefined ? { policy: str('policy')! } : {}),
        onAsk,
        ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
        ...(str('docker-host') !== undefined ? { dockerHost: str('docker-host')! } : {}),
        ...(workspaceMode !== undefined ? { workspaceMode } : {}),
        ...(preset !== undefined ? { preset } : {}),
        ...(protocol !== undefined ? { protocol } : {}),
        ...(secretEnv.length > 0 ? { secretEnv } : {}),
        json,
      };
    }
    case 'agent setup': {
      const preset = positionals[0];
      if (preset === undefined)
        throw new UsageError(`missing PRESET: one of ${SETUP_PRESET_IDS.join(', ')} (see "warden agent setup --help")`);
      const parsedPreset = SetupPresetId.safeParse(preset);
      if (!parsedPreset.success) throw new UsageError(`PRESET must be one of ${SETUP_PRESET_IDS.join(', ')}; not "${preset}"`);
      return { command: 'agent setup', workspace, preset: parsedPreset.data, yes: values.yes === true };
    }
    case 'audit verify':
      return { command: 'audit verify', workspace, json };
    case 'audit export': {
      const format = str('format');
      if (format === undefined) throw new UsageError('missing --format json|csv (see "warden audit export --help")');
      if (format !== 'json' && format !== 'csv') throw new UsageError(`--format must be "json" or "csv", not "${format}"`);
      return { command: 'audit export', workspace, format, ...(str('output') !== undefined ? { output: str('output')! } : {}) };
    }
    case 'audit anchor':
      return { command: 'audit anchor', workspace, note: values.note === true, json };
    case 'audit report': {
      const range = str('range');
      if (range === undefined || range.trim() === '') throw new UsageError('missing --range A..B (see "warden audit report --help")');
      if (range.startsWith('-')) throw new UsageError(`--range must be a revision range such as main..HEAD, not "${range}"`);
      return { command: 'audit report', workspace, range, json };
    }
    case 'audit blame': {
      const target = positionals[0];
      if (target === undefined || target.trim() === '')
        throw new UsageError('missing REV or A..B: the commit or range to blame (see "warden audit blame --help")');
      if (target.startsWith('-')) throw new UsageError(`REV must be a commit, branch or range such as main..HEAD, not "${target}"`);
      const file = str('file');
      return { command: 'audit blame', workspace, target, ...(file !== undefined ? { file } : {}), json };
    }
    case 'policy check':
    case 'policy test':
      return { command: spec.name, workspace, ...(positionals[0] !== undefined ? { file: positionals[0] } : {}), json };
    case 'policy explain': {
      const command = str('command');
      const write = str('write');
      if ((command === undefined) === (write === undefined))
        throw new UsageError('give exactly one of --command TEXT or --write PATH (see "warden policy explain --help")');
      return {
        command: 'policy explain',
        workspace,
        ...(str('policy') !== undefined ? { file: str('policy')! } : {}),
        subject: command !== undefined ? { command } : { write: write! },
        json,
      };
    }
  }
}

function findSpec(argv: readonly (string | undefined)[]): { spec: CommandSpec; words: number } {
  const [first, second] = argv;
  const one = COMMANDS.find((c) => c.name === first);
  if (one) return { spec: one, words: 1 };
  const two = COMMANDS.find((c) => c.name === `${first} ${second}`);
  if (two) return { spec: two, words: 2 };
  const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
  if (group.length > 0) {
    const subs = group.map((c) => c.name.split(' ')[1]).join(', ');
    if (second === undefined || second.startsWith('-')) throw new UsageError(`"warden ${first}" needs a subcommand: ${subs}`);
    throw new UsageError(`unknown command "warden ${first} ${second}"; "warden ${first}" has: ${subs}`);
  }
  throw new UsageError(`unknown command "${first}"; commands: run, agent, audit, policy (see "warden --help")`);
}
