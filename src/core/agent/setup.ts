import {
  applyEdits,
  findNodeAtLocation,
  modify,
  parse,
  parseTree,
  printParseErrorCode,
  type FormattingOptions,
  type ParseError,
} from 'jsonc-parser';
import * as z from 'zod';
import { loadPolicyText } from '../policy/loader';
import { TEAM_POLICY_PATH } from '../policy/effective';
import { DEVCONTAINER_LOCATIONS, lineColumn, parseDevcontainer } from '../sandbox/devcontainer';
import { AGENT_PRESETS, type AgentPreset, type AgentPresetId } from './presets';

/**
 * "Warden: Set Up Agent…" and `warden agent setup PRESET`: every change a preset needs so
 * that "Warden: Start Agent Session" (or `warden run --preset`) works with no further edit.
 * Pure: the caller reads the workspace's files through `read` and shows each change for
 * approval before writing anything. No `vscode`, no `fs`.
 */

/** What can be set up: the built-in demo agent and every preset with a command. */
export const SetupPresetId = z.enum(['demo', 'gemini', 'codex-acp', 'codex-app-server', 'claude', 'copilot', 'opencode']);
export type SetupPresetId = z.infer<typeof SetupPresetId>;
export const TEAM_POLICY_FILE = TEAM_POLICY_PATH;
export const SETUP_PRESET_IDS: readonly SetupPresetId[] = SetupPresetId.options;

/** The `warden.agent.preset` value a setup id stands for (the demo agent is `custom` with no command). */
export function settingPreset(id: SetupPresetId): AgentPresetId {
  return id === 'demo' ? 'custom' : id;
}

export function presetOf(id: SetupPresetId): AgentPreset {
  return AGENT_PRESETS[settingPreset(id)];
}

/** One file to write: workspace-relative (POSIX) path, the text read (undefined: new file) and the text proposed. */
export interface FileChange {
  path: string;
  before: string | undefined;
  after: string;
}

/** One step the user approves or refuses as a whole (a step's files are written together). */
export interface SetupStep {
  kind: 'sandbox' | 'policy';
  title: string;
  changes: FileChange[];
}

/** A file Warden did not change because it does not parse (or is not a valid definition): it is left untouched. */
export interface SetupProblem {
  path: string;
  line: number;
  column: number;
  message: string;
}

export interface SetupPlan {
  preset: SetupPresetId;
  /** The `warden.agent.preset` setting to set. */
  settingPreset: AgentPresetId;
  label: string;
  /** Steps with at least one change; a step already done is not listed. */
  steps: SetupStep[];
  /** What was already in place (for the summary). */
  done: string[];
  problems: SetupProblem[];
  /** The variable the agent reads its API key from; undefined when it needs none. */
  apiKeyEnv: string | undefined;
  hosts: string[];
}

/** Reads a workspace-relative file; undefined when it does not exist. */
export type ReadWorkspaceFile = (relativePath: string) => Promise<string | undefined>;

/** The base image of a sandbox definition Warden creates: Debian with Node and npm (the presets install with npm), user 1000 exists. */
export const DEFAULT_BASE_IMAGE = 'node:20-bookworm-slim';

export const DEFAULT_DEVCONTAINER = `// The sandbox Warden runs the agent in (created by "Warden: Set Up Agent").
// Warden adds its hardening on top: a non-root user, no capabilities, no network except
// through the egress proxy (the team policy's network.allow), the workspace read-only or
// as a private copy. Install what the agent and your build need in the Dockerfile.
{
  "name": "Warden sandbox",
  "build": {
    "dockerfile": "Dockerfile"
  }
}
`;

export function defaultDockerfile(baseImage = DEFAULT_BASE_IMAGE): string {
  return `# The image of Warden's sandbox; add what the agent and your build need.\nFROM ${baseImage}\n`;
}

export const DEFAULT_POLICY = `// The team policy: commit it. Warden's defaults apply to what it does not say.
{
  "version": 1
}
`;

function installLines(preset: AgentPreset): string[] {
  return preset.install.startsWith('RUN ') ? [preset.install] : [];
}

function formatting(text: string): FormattingOptions {
  const indent = /\n([ \t]+)"/.exec(text)?.[1] ?? '  ';
  return indent.startsWith('\t')
    ? { insertSpaces: false, tabSize: 1, eol: eolOf(text) }
    : { insertSpaces: true, tabSize: indent.length, eol: eolOf(text) };
}

function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

function syntaxProblem(file: string, text: string): SetupProblem | undefined {
  const errors: ParseError[] = [];
  parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (!first) return undefined;
  const { line, column } = lineColumn(text, first.offset);
  return {
    path: file,
    line,
    column,
    message: `JSON syntax error: ${printParseErrorCode(first.error)
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .toLowerCase()}`,
  };
}

function posixJoin(dir: string, file: string): string {
  const parts = [...(dir && dir !== '.' ? dir.split('/') : []), ...file.split('/')];
  const out: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

function dirOf(file: string): string {
  const i = file.lastIndexOf('/');
  return i < 0 ? '' : file.slice(0, i);
}

/** Appends the install lines the Dockerfile does not have yet (a line equal after trimming counts as present). */
export function dockerfileWithInstall(text: string, preset: AgentPreset): string {
  const have = new Set(text.split(/\r?\n/).map((l) => l.trim()));
  const missing = installLines(preset).filter((l) => !have.has(l));
  if (missing.length === 0) return text;
  const eol = eolOf(text);
  const base = text === '' || text.endsWith('\n') ? text : text + eol;
  return `${base}# ${preset.label} (warden agent setup ${preset.id})${eol}${missing.join(eol)}${eol}`;
}

async function sandboxStep(
  preset: AgentPreset,
  read: ReadWorkspaceFile,
  problems: SetupProblem[],
  done: string[],
): Promise<SetupStep | undefined> {
  let configPath: string | undefined;
  let configText: string | undefined;
  for (const candidate of DEVCONTAINER_LOCATIONS) {
    const text = await read(candidate);
    if (text !== undefined) {
      configPath = candidate;
      configText = text;
      break;
    }
  }
  const title =
    installLines(preset).length > 0 ? `Install ${preset.label} in the sandbox image (${preset.install})` : 'Create the sandbox definition';
  if (configPath === undefined || configText === undefined) {
    const dockerfilePath = '.devcontainer/Dockerfile';
    const existing = await read(dockerfilePath);
    const dockerfile = dockerfileWithInstall(existing ?? defaultDockerfile(), preset);
    const changes: FileChange[] = [{ path: '.devcontainer/devcontainer.json', before: undefined, after: DEFAULT_DEVCONTAINER }];
    if (dockerfile !== existing) changes.push({ path: dockerfilePath, before: existing, after: dockerfile });
    return { kind: 'sandbox', title, changes };
  }
  const syntax = syntaxProblem(configPath, configText);
  if (syntax) {
    problems.push(syntax);
    return undefined;
  }
  let config;
  try {
    config = parseDevcontainer(configText, configPath);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const at = /:(\d+):(\d+): /.exec(message);
    problems.push({
      path: configPath,
      line: at ? Number(at[1]) : 1,
      column: at ? Number(at[2]) : 1,
      message: message.replace(`${configPath}:`, '').trim(),
    });
    return undefined;
  }
  const configDir = dirOf(configPath);
  const dockerfile = config.build?.dockerfile ?? config.dockerFile;
  if (dockerfile !== undefined) {
    const dockerfilePath = posixJoin(configDir, dockerfile);
    const text = await read(dockerfilePath);
    if (text === undefined) {
      problems.push({ path: configPath, line: 1, column: 1, message: `its Dockerfile ${dockerfilePath} does not exist` });
      return undefined;
    }
    const after = dockerfileWithInstall(text, preset);
    if (after === text) {
      done.push(
        installLines(preset).length > 0
          ? `${dockerfilePath} already installs ${preset.label}`
          : `the sandbox definition ${configPath} exists`,
      );
      return undefined;
    }
    return { kind: 'sandbox', title, changes: [{ path: dockerfilePath, before: text, after }] };
  }
  // An "image" definition: nothing to install into unless it builds; switch it to a Dockerfile FROM that image.
  if (installLines(preset).length === 0) {
    done.push(`the sandbox definition ${configPath} exists`);
    return undefined;
  }
  const dockerfilePath = posixJoin(configDir, 'Dockerfile');
  const existing = await read(dockerfilePath);
  if (existing !== undefined) {
    problems.push({
      path: configPath,
      line: 1,
      column: 1,
      message: `it uses "image" and ${dockerfilePath} already exists: point "build.dockerfile" at it (or add "${preset.install}" to it) yourself`,
    });
    return undefined;
  }
  // The "image" property is replaced where it stands, so the comments around it stay.
  const property = findNodeAtLocation(parseTree(configText, [], { allowTrailingComma: true })!, ['image'])?.parent;
  if (!property) throw new Error('unreachable: a definition without a Dockerfile has an image');
  const after = `${configText.slice(0, property.offset)}"build": { "dockerfile": "Dockerfile" }${configText.slice(property.offset + property.length)}`;
  return {
    kind: 'sandbox',
    title,
    changes: [
      { path: configPath, before: configText, after },
      { path: dockerfilePath, before: undefined, after: dockerfileWithInstall(defaultDockerfile(config.image), preset) },
    ],
  };
}

/** True when an allow entry already lets `host` out on the default ports. */
function allowed(entries: ReadonlyArray<{ host: string; ports?: number[] | undefined }>, host: string): boolean {
  return entries.some((e) => {
    if (e.ports !== undefined && !e.ports.includes(443)) return false;
    if (e.host === host) return true;
    return e.host.startsWith('*.') && host.endsWith(e.host.slice(1));
  });
}

/** The policy text with `hosts` in `network.allow` (comments and formatting kept), validated by the policy loader. */
export function policyWithHosts(
  text: string | undefined,
  hosts: readonly string[],
): { after: string; added: string[] } | { problem: Omit<SetupProblem, 'path'> } {
  const base = text === undefined || text.trim() === '' ? DEFAULT_POLICY : text;
  const loaded = loadPolicyText(base);
  if (!loaded.ok) {
    const first = loaded.problems[0]!;
    return { problem: { line: first.line, column: first.column, message: first.message } };
  }
  const entries = loaded.value.network?.allow ?? [];
  const added = hosts.filter((h) => !allowed(entries, h));
  let after = base;
  const fmt = formatting(base);
  for (const host of added) after = applyEdits(after, modify(after, ['network', 'allow', -1], { host }, { formattingOptions: fmt }));
  const check = loadPolicyText(after);
  if (!check.ok) {
    const first = check.problems[0]!;
    return {
      problem: { line: first.line, column: first.column, message: `adding the hosts would make the policy invalid: ${first.message}` },
    };
  }
  return { after: added.length > 0 ? after : (text ?? ''), added };
}

async function policyStep(
  preset: AgentPreset,
  read: ReadWorkspaceFile,
  problems: SetupProblem[],
  done: string[],
): Promise<SetupStep | undefined> {
  if (preset.hosts.length === 0) return undefined;
  const before = await read(TEAM_POLICY_PATH);
  const result = policyWithHosts(before, preset.hosts);
  if ('problem' in result) {
    problems.push({ path: TEAM_POLICY_PATH, ...result.problem });
    return undefined;
  }
  if (result.added.length === 0) {
    done.push(`${TEAM_POLICY_PATH} already allows ${preset.hosts.join(', ')}`);
    return undefined;
  }
  return {
    kind: 'policy',
    title: `Allow the model host ${result.added.join(', ')} in the team policy's network.allow`,
    changes: [{ path: TEAM_POLICY_PATH, before, after: result.after }],
  };
}

/** Everything `preset` still needs in this workspace. Running it again after applying yields no steps. */
export async function planSetup(id: SetupPresetId, read: ReadWorkspaceFile): Promise<SetupPlan> {
  const preset = presetOf(id);
  const problems: SetupProblem[] = [];
  const done: string[] = [];
  const steps = [await sandboxStep(preset, read, problems, done), await policyStep(preset, read, problems, done)].filter(
    (s): s is SetupStep => s !== undefined,
  );
  return {
    preset: id,
    settingPreset: settingPreset(id),
    label: id === 'demo' ? 'the built-in demo agent' : preset.label,
    steps,
    done,
    problems,
    apiKeyEnv: preset.apiKeyEnv,
    hosts: [...preset.hosts],
  };
}

/** `FILE:LINE:COLUMN: message`. */
export function problemLine(problem: SetupProblem): string {
  return `${problem.path}:${problem.line}:${problem.column}: ${problem.message}`;
}

/** A unified diff of one change (whole-file hunks are fine for the small files setup touches). */
export function unifiedDiff(change: FileChange): string {
  const split = (t: string): string[] => (t === '' ? [] : t.replace(/\r?\n$/, '').split(/\r?\n/));
  const a = change.before === undefined ? [] : split(change.before);
  const b = split(change.after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ctx = 3;
  const from = Math.max(0, start - ctx);
  const toA = Math.min(a.length, endA + ctx);
  const toB = Math.min(b.length, endB + ctx);
  const lines = [
    `--- ${change.before === undefined ? '/dev/null' : `a/${change.path}`}`,
    `+++ b/${change.path}`,
    `@@ -${a.length === 0 ? 0 : from + 1},${toA - from} +${b.length === 0 ? 0 : from + 1},${toB - from} @@`,
    ...a.slice(from, start).map((l) => ` ${l}`),
    ...a.slice(start, endA).map((l) => `-${l}`),
    ...b.slice(start, endB).map((l) => `+${l}`),
    ...a.slice(endA, toA).map((l) => ` ${l}`),
  ];
  return `${lines.join('\n')}\n`;
}
