import { realpathSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SandboxSection } from '../policy/schema';
import type { MergedConfig } from './metadata';
import { currentHostPlatform, hostPathApi, isInsideOn, type HostPlatform } from './hostPaths';
import { parseMount, type ParsedMount } from './mounts';
import { SandboxError } from './types';

/**
 * Security-relevant dev container properties (privileged, capAdd, securityOpt, runArgs, host
 * bind mounts, a workspaceMount other than the workspace, initializeCommand) are refused unless
 * the team policy's "sandbox" section allows them; each refusal names the property, where it
 * came from and the policy key that would allow it. Some things no policy can allow: a mount of
 * the Docker socket, the SSH agent or the host home, turning no-new-privileges off, a network.
 */

export type SandboxPolicy = SandboxSection;

/** What an absent or invalid team policy allows: nothing. */
export const STRICT_SANDBOX_POLICY: SandboxPolicy = {
  allowPrivileged: false,
  allowCapAdd: [],
  allowSecurityOpt: [],
  allowMounts: false,
  allowRunArgs: false,
  allowInitializeCommand: false,
  allowNetwork: false,
};

const POLICY_FILE = '.warden/policy.json';

/** The runArgs Warden understands; every other flag is refused even when sandbox.allowRunArgs is true. */
export const HONOURED_RUN_ARGS = [
  '--init',
  '--privileged',
  '--cap-add',
  '--security-opt',
  '-e/--env NAME=VALUE',
  '--label NAME=VALUE',
  '--shm-size',
  '--cpus',
  '--ulimit',
  '--tmpfs',
  '--network=none',
] as const;

export interface Hardening {
  privileged: boolean;
  init: boolean;
  capAdd: string[];
  securityOpt: string[];
  /** Extra mounts (volumes, tmpfs, allowed binds), in order. */
  mounts: ParsedMount[];
  /** Host folder shown at workspaceFolder (read-only): the workspace unless an allowed workspaceMount says otherwise. */
  workspaceSource: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  shmSize: number | undefined;
  nanoCpus: number | undefined;
  ulimits: { Name: string; Soft: number; Hard: number }[];
}

export interface HardeningInput {
  merged: MergedConfig;
  /** devcontainer.json-only properties (image metadata cannot carry them). */
  runArgs: string[] | undefined;
  workspaceMount: string | undefined;
  hasInitializeCommand: boolean;
  policy: SandboxPolicy;
  workspaceHostPath: string;
  workspaceFolder: string;
  /** Folders no mount may cover (the agents folder, HOME, /tmp). */
  reservedTargets: string[];
  /** Expands `${...}` in mount strings. */
  substitute: (value: string, where: string) => string;
  homeDir?: string;
  sshAuthSock?: string | undefined;
  /** The host's path rules (default: the platform Warden runs on): Windows compares paths without case. */
  hostPlatform?: HostPlatform;
}

const json = (value: unknown): string => JSON.stringify(value);

function normalizeCap(cap: string): string {
  return cap.trim().toUpperCase().replace(/^CAP_/, '');
}

export function checkHardening(input: HardeningInput): Hardening {
  const refusals: string[] = [];
  const { merged, policy } = input;
  const originOf = (what: string): string => (what === 'devcontainer.json' ? '' : ` (from ${what})`);
  const result: Hardening = {
    privileged: false,
    init: merged.init,
    capAdd: [],
    securityOpt: [],
    mounts: [],
    workspaceSource: input.workspaceHostPath,
    env: {},
    labels: {},
    shmSize: undefined,
    nanoCpus: undefined,
    ulimits: [],
  };

  const wantPrivileged = (origin: string): void => {
    if (policy.allowPrivileged) result.privileged = true;
    else refusals.push(`"privileged": true${originOf(origin)} is refused: allow it with "sandbox.allowPrivileged": true in ${POLICY_FILE}`);
  };
  const wantCaps = (caps: string[], origin: string): void => {
    const allowed = new Set(policy.allowCapAdd.map(normalizeCap));
    const refused = caps.map(normalizeCap).filter((c) => !allowed.has(c) && !allowed.has('ALL'));
    if (refused.length > 0)
      refusals.push(
        `"capAdd": ${json(refused)}${originOf(origin)} is refused: allow it with "sandbox.allowCapAdd": ${json(refused)} in ${POLICY_FILE}`,
      );
    for (const cap of caps.map(normalizeCap)) if (!refused.includes(cap) && !result.capAdd.includes(cap)) result.capAdd.push(cap);
  };
  const wantSecurityOpts = (opts: string[], origin: string): void => {
    for (const opt of opts) {
      if (/^no-new-privileges([=:](true|false|1|0))?$/i.test(opt.trim())) {
        if (!/[=:](false|0)$/i.test(opt.trim())) continue; // Warden sets it anyway
        refusals.push(
          `"securityOpt": ${json([opt])}${originOf(origin)} is refused: no policy can turn off no-new-privileges in a Warden sandbox`,
        );
        continue;
      }
      if (policy.allowSecurityOpt.includes(opt)) {
        if (!result.securityOpt.includes(opt)) result.securityOpt.push(opt);
      } else {
        refusals.push(
          `"securityOpt": ${json([opt])}${originOf(origin)} is refused: allow it with "sandbox.allowSecurityOpt": ${json([opt])} in ${POLICY_FILE}`,
        );
      }
    }
  };

  if (merged.privileged) wantPrivileged(merged.privilegedOrigin ?? 'devcontainer.json');
  for (const { origin, caps } of merged.capAddOrigins) wantCaps(caps, origin);
  for (const { origin, opts } of merged.securityOptOrigins) wantSecurityOpts(opts, origin);

  // Mounts: volumes and tmpfs are the engine's own storage; a bind reaches into the host.
  const home = input.homeDir ?? os.homedir();
  const platform = input.hostPlatform ?? currentHostPlatform();
  const never = (source: string | undefined): string | undefined => neverMounted(source, home, input.sshAuthSock, platform);
  for (const { origin, mount } of merged.mounts) {
    const where = `mounts${originOf(origin)}`;
    const substituted =
      typeof mount === 'string'
        ? input.substitute(mount, 'mounts')
        : {
            ...mount,
            ...(mount.source ? { source: input.substitute(mount.source, 'mounts') } : {}),
            target: input.substitute(mount.target, 'mounts'),
          };
    const parsed = parseMount(substituted, where);
    const problem = mountTargetProblem(parsed.target, input.workspaceFolder, input.reservedTargets);
    if (problem) {
      refusals.push(`${where}: ${json(mount)} is refused: ${problem}`);
      continue;
    }
    if (parsed.type === 'bind') {
      const problem = never(parsed.source);
      if (problem) refusals.push(`${where}: ${json(mount)} is refused: ${problem}`);
      else if (!policy.allowMounts)
        refusals.push(
          `${where}: the host bind mount ${json(mount)} is refused: allow it with "sandbox.allowMounts": true in ${POLICY_FILE}`,
        );
      else result.mounts.push(parsed);
    } else {
      result.mounts.push(parsed);
    }
  }

  if (input.workspaceMount !== undefined) {
    const parsed = parseMount(input.substitute(input.workspaceMount, 'workspaceMount'), 'workspaceMount');
    const api = hostPathApi(platform);
    const source = parsed.source ? api.resolve(parsed.source) : undefined;
    if (parsed.type !== 'bind' || !source) {
      refusals.push(
        `"workspaceMount": ${json(input.workspaceMount)} is refused: Warden mounts the workspace as a read-only bind; only a bind of a host folder can replace it`,
      );
    } else if (path.posix.normalize(parsed.target) !== input.workspaceFolder) {
      refusals.push(
        `"workspaceMount": its target ${parsed.target} must be the workspaceFolder (${input.workspaceFolder}); set "workspaceFolder" to the same path`,
      );
    } else if (!samePath(source, api.resolve(input.workspaceHostPath), platform)) {
      const problem = never(source);
      if (problem) refusals.push(`"workspaceMount": ${json(input.workspaceMount)} is refused: ${problem}`);
      else if (!policy.allowMounts)
        refusals.push(
          `"workspaceMount": ${json(input.workspaceMount)} mounts ${source} instead of the workspace and is refused: allow it with "sandbox.allowMounts": true in ${POLICY_FILE}`,
        );
      else result.workspaceSource = source; // still read-only
    }
  }

  if (input.hasInitializeCommand && !policy.allowInitializeCommand) {
    refusals.push(
      `"initializeCommand" runs on the host, outside the sandbox, and is refused: allow it with "sandbox.allowInitializeCommand": true in ${POLICY_FILE}`,
    );
  }

  if (input.runArgs && input.runArgs.length > 0) {
    if (!policy.allowRunArgs) {
      refusals.push(
        `"runArgs": ${json(input.runArgs)} is refused: allow it with "sandbox.allowRunArgs": true in ${POLICY_FILE} (Warden then honours only ${HONOURED_RUN_ARGS.join(', ')})`,
      );
    } else {
      applyRunArgs(input.runArgs, result, refusals, {
        wantPrivileged,
        wantCaps,
        wantSecurityOpts,
        workspaceFolder: input.workspaceFolder,
        reserved: input.reservedTargets,
      });
    }
  }

  if (refusals.length > 0) {
    throw new SandboxError(
      `The sandbox definition asks for more than the team policy allows:\n- ${refusals.join('\n- ')}`,
      'config-refused',
    );
  }
  return result;
}

function isWithin(child: string, parent: string): boolean {
  const rel = path.posix.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.posix.isAbsolute(rel));
}

function mountTargetProblem(target: string, workspaceFolder: string, reserved: string[]): string | undefined {
  if (!path.posix.isAbsolute(target)) return `its target "${target}" is not an absolute path`;
  const normalized = path.posix.normalize(target);
  // Covering the workspace could make it writable or hide it; covering Warden's folders could swap the agent.
  for (const guarded of [workspaceFolder, ...reserved]) {
    if (isWithin(normalized, guarded) || isWithin(guarded, normalized))
      return `its target ${normalized} overlaps ${guarded}, which Warden manages`;
  }
  return undefined;
}

function realpathOr(p: string, platform: HostPlatform): string {
  try {
    return realpathSync(p);
  } catch {
    return hostPathApi(platform).resolve(p);
  }
}

function samePath(a: string, b: string, platform: HostPlatform): boolean {
  return isInsideOn(a, b, platform) && isInsideOn(b, a, platform);
}

const CREDENTIAL_DIRS = [
  '.ssh',
  '.aws',
  '.azure',
  '.config/gcloud',
  '.docker',
  '.gnupg',
  '.kube',
  '.git-credentials',
  '.netrc',
  '.npmrc',
  '.config/gh',
];

/**
 * Host paths no policy can mount: the engine, the SSH agent, the home folder (or above it),
 * credential stores. Compared by the host's rules (hostPaths.ts): on Windows without case and
 * with either separator, so `c:/users/me/.SSH` is `C:\Users\me\.ssh`.
 */
function neverMounted(
  source: string | undefined,
  home: string,
  sshAuthSock: string | undefined,
  platform: HostPlatform,
): string | undefined {
  if (!source) return 'a bind mount needs a source';
  const api = hostPathApi(platform);
  if (!api.isAbsolute(source)) return `its source "${source}" is not an absolute host path`;
  const within = (child: string, parent: string): boolean => isInsideOn(parent, child, platform);
  const real = realpathOr(source, platform);
  if (/docker\.sock$|podman\.sock$|containerd\.sock$|[\\/]pipe[\\/]docker/i.test(real) || /docker\.sock$/i.test(source))
    return `it would hand the container engine (${source}) to the agent; no policy can allow that`;
  if (sshAuthSock && within(realpathOr(sshAuthSock, platform), real))
    return `it would expose the SSH agent socket (${sshAuthSock}); no policy can allow that`;
  const realHome = realpathOr(home, platform);
  if (within(realHome, real)) return `it would expose the host home folder (${home}); no policy can allow that`;
  const credential = CREDENTIAL_DIRS.find((dir) => within(real, api.join(realHome, dir)) || within(api.join(realHome, dir), real));
  if (credential) return `it would expose ~/${credential} (credentials); no policy can allow that`;
  return undefined;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function parseSize(value: string): number | undefined {
  const match = /^(\d+)([bkmg]?)b?$/i.exec(value.trim());
  return match ? Number(match[1]) * (SIZE_UNITS[(match[2] ?? '').toLowerCase()] ?? 1) : undefined;
}

interface RunArgsContext {
  wantPrivileged: (origin: string) => void;
  wantCaps: (caps: string[], origin: string) => void;
  wantSecurityOpts: (opts: string[], origin: string) => void;
  workspaceFolder: string;
  reserved: string[];
}

/** Applies the honoured subset of runArgs (see HONOURED_RUN_ARGS); refuses the rest by name. */
function applyRunArgs(args: string[], result: Hardening, refusals: string[], ctx: RunArgsContext): void {
  const origin = 'runArgs';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const takesValue = [
      '--cap-add',
      '--security-opt',
      '-e',
      '--env',
      '--label',
      '-l',
      '--shm-size',
      '--cpus',
      '--ulimit',
      '--tmpfs',
      '--network',
      '--net',
    ].includes(flag);
    let value: string | undefined;
    if (takesValue) {
      value = flag !== arg ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) {
        refusals.push(`"runArgs": ${flag} needs a value`);
        continue;
      }
    }
    const bad = (why: string): void =>
      void refusals.push(`"runArgs": ${json(arg)}${value !== undefined && flag === arg ? ` ${json(value)}` : ''} is refused: ${why}`);
    switch (flag) {
      case '--init':
        result.init = true;
        break;
      case '--privileged':
        ctx.wantPrivileged(origin);
        break;
      case '--cap-add':
        ctx.wantCaps([value!], origin);
        break;
      case '--security-opt':
        ctx.wantSecurityOpts([value!], origin);
        break;
      case '-e':
      case '--env': {
        const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(value!);
        // `-e NAME` alone would copy the host's value: host variables only enter through the allow-list.
        if (!match) bad('only NAME=VALUE is honoured (a bare NAME would copy a host variable; use the host environment allow-list)');
        else result.env[match[1]!] = match[2]!;
        break;
      }
      case '-l':
      case '--label': {
        const [name, ...rest] = value!.split('=');
        if (!name || name.startsWith('dev.warden.')) bad("labels under dev.warden. are Warden's own");
        else result.labels[name] = rest.join('=');
        break;
      }
      case '--shm-size': {
        const size = parseSize(value!);
        if (size === undefined) bad('not a size such as 512m');
        else result.shmSize = size;
        break;
      }
      case '--cpus': {
        const cpus = Number(value);
        if (!Number.isFinite(cpus) || cpus <= 0) bad('not a positive number');
        else result.nanoCpus = Math.round(cpus * 1e9);
        break;
      }
      case '--ulimit': {
        const match = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(value!);
        if (!match) bad('expected NAME=SOFT[:HARD]');
        else result.ulimits.push({ Name: match[1]!, Soft: Number(match[2]), Hard: Number(match[3] ?? match[2]) });
        break;
      }
      case '--tmpfs': {
        const target = value!.split(':')[0]!;
        const problem = mountTargetProblem(target, ctx.workspaceFolder, ctx.reserved);
        if (problem) bad(problem);
        else result.mounts.push({ type: 'tmpfs', source: undefined, target: path.posix.normalize(target), readOnly: false });
        break;
      }
      case '--network':
      case '--net':
        if (value !== 'none') bad('the sandbox has no network; allowed hosts go through Warden\'s egress control (policy "network")');
        break;
      default:
        bad(`Warden honours only ${HONOURED_RUN_ARGS.join(', ')} in runArgs`);
    }
  }
}
