import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Dockerode from 'dockerode';
import * as z from 'zod';
import { sha256Hex } from '../util/hash';
import { LABELS } from './devcontainer';
import { dockerError, dockerMessage } from './dockerErrors';
import type { SandboxOrigin, WorkspaceMode } from './types';
import { bindSource } from './bindSources';
import { currentHostPlatform, hostPathApi, type HostPlatform } from './hostPaths';
import { copyAccessFor, createCopyFolder, removeCopyFolder, syncCopy, type CopyAccess } from './workspaceCopy';

/**
 * Bump when the hardening Warden applies changes in a way the container spec does not show
 * (e.g. what the startup probe checks): kept sandboxes made under the old rules are rebuilt.
 */
export const HARDENING_VERSION = 1;

/** Labels of the reuse machinery (next to LABELS of devcontainer.ts). */
export const LIFECYCLE_LABELS = {
  configHash: 'dev.warden.config-hash',
  workspaceMode: 'dev.warden.workspace-mode',
  /** Host folder of the private copy ('copy' mode): the mount source, needed again on reuse. */
  copy: 'dev.warden.copy',
} as const;

/**
 * The effective configuration of a sandbox: the container spec Warden derived (hardening,
 * mounts, env, user; labels left out since they name the session and owner), the image id
 * (a rebuilt Dockerfile is a new id), devcontainer.json itself (lifecycle commands are not in
 * the spec), the workspace mode and HARDENING_VERSION. Equal hash: a kept container can be reused.
 */
export function sandboxConfigHash(input: {
  spec: Dockerode.ContainerCreateOptions;
  imageId: string;
  devcontainerText: string;
  workspaceMode: WorkspaceMode;
}): string {
  const { Labels: _labels, name: _name, ...spec } = input.spec as Dockerode.ContainerCreateOptions & { name?: string };
  return sha256Hex(
    JSON.stringify({ v: HARDENING_VERSION, spec, imageId: input.imageId, devcontainer: input.devcontainerText, mode: input.workspaceMode }),
  ).slice(0, 32);
}

/**
 * The owning Warden process is also written in the container's name, because names can be
 * changed and labels cannot: a kept sandbox reused by a new VS Code window is renamed to it,
 * so the orphan cleanup of a third window never takes a live sandbox for a crashed one.
 */
export function ownerContainerName(): string {
  return `warden-${hostTag()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** The owner a container name records: same host or not, and the pid. */
export function ownerFromName(name: string | undefined): { sameHost: boolean; pid: number } | undefined {
  const match = /^\/?warden-([0-9a-f]{8})-(\d+)-[0-9a-f]{6}$/.exec(name ?? '');
  if (!match) return undefined;
  return { sameHost: match[1] === hostTag(), pid: Number(match[2]) };
}

function hostTag(): string {
  return sha256Hex(os.hostname()).slice(0, 8);
}

const listSchema = z.array(
  z.looseObject({
    Id: z.string(),
    State: z.string().optional(),
    Names: z.array(z.string()).nullish(),
    Labels: z.record(z.string(), z.string()).nullish(),
  }),
);

export interface ReusePlan {
  /** A kept (stopped) sandbox with the same configuration hash, to be restarted. */
  reuse?: { id: string; copyHostPath: string | undefined };
  /** Kept sandboxes of this workspace whose configuration changed: removed (their copies with them). */
  removed: Array<{ id: string; configHash: string; copyHostPath: string | undefined }>;
}

/**
 * Looks at the kept sandboxes of a workspace. A running one belongs to a live session (orphans
 * were removed before) and is left alone. A stopped one with the same hash is reused; with
 * another hash it is removed, so the next container is a rebuild.
 */
export async function planReuse(docker: Dockerode, workspaceHostPath: string, configHash: string): Promise<ReusePlan> {
  const listed = listSchema.safeParse(
    await docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=true`, `${LABELS.workspace}=${workspaceHostPath}`] } }),
  );
  const plan: ReusePlan = { removed: [] };
  if (!listed.success) return plan;
  for (const container of listed.data) {
    if (container.State === 'running' || container.State === 'restarting' || container.State === 'removing') continue;
    const labels = container.Labels ?? {};
    const hash = labels[LIFECYCLE_LABELS.configHash] ?? '';
    const copyHostPath = labels[LIFECYCLE_LABELS.copy];
    if (!plan.reuse && hash === configHash && container.State !== 'dead') {
      plan.reuse = { id: container.Id, copyHostPath };
      continue;
    }
    await removeContainer(docker, container.Id);
    plan.removed.push({ id: container.Id, configHash: hash, copyHostPath });
  }
  return plan;
}

/** Removes a container (force: kills what runs in it); a container already gone is fine. */
export async function removeContainer(docker: Dockerode, id: string): Promise<void> {
  await docker
    .getContainer(id)
    .remove({ force: true })
    .catch((error: unknown) => {
      if (dockerError(error)?.statusCode !== 404)
        throw new Error(`Could not remove sandbox container ${id.slice(0, 12)}: ${dockerMessage(error)}`);
    });
}

/** Kept (not running) sandboxes of a workspace, for "Warden: Remove Sandbox". */
export async function keptSandboxes(
  docker: Dockerode,
  workspaceHostPath: string,
): Promise<Array<{ id: string; running: boolean; copyHostPath: string | undefined }>> {
  const listed = listSchema.safeParse(
    await docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=true`, `${LABELS.workspace}=${workspaceHostPath}`] } }),
  );
  if (!listed.success) return [];
  return listed.data.map((c) => ({ id: c.Id, running: c.State === 'running', copyHostPath: c.Labels?.[LIFECYCLE_LABELS.copy] }));
}

export interface PreparedContainer {
  container: Dockerode.Container;
  origin: SandboxOrigin;
  copyHostPath: string | undefined;
}

export interface PrepareOptions {
  spec: Dockerode.ContainerCreateOptions;
  configHash: string;
  workspaceHostPath: string;
  workspaceFolder: string;
  workspaceMode: WorkspaceMode;
  reuse: boolean;
  log: (line: string) => void;
  /** 'copy' mode: paths the policy withholds from the sandbox, left out of the copy. */
  withheld?: (relative: string) => boolean;
  /** The host's path rules for bind sources (default: the platform Warden runs on). */
  hostPlatform?: HostPlatform;
}

/**
 * The container for a new session: a kept one restarted (same hash), or a new one, replacing
 * kept ones whose configuration changed. In 'copy' mode the private copy is (re)synced from
 * the real workspace before the container runs, so every session starts from reality.
 */
export async function prepareContainer(docker: Dockerode, options: PrepareOptions): Promise<PreparedContainer> {
  const plan: ReusePlan = options.reuse ? await planReuse(docker, options.workspaceHostPath, options.configHash) : { removed: [] };
  for (const old of plan.removed) {
    options.log(
      `removed the kept sandbox ${old.id.slice(0, 12)}: its configuration changed (${old.configHash || 'unknown'} -> ${options.configHash})`,
    );
    await removeCopyFolder(old.copyHostPath);
  }
  const access = copyAccessFor(options.spec.User ?? '');
  if (plan.reuse) {
    const container = docker.getContainer(plan.reuse.id);
    const copyHostPath = options.workspaceMode === 'copy' ? plan.reuse.copyHostPath : undefined;
    if (options.workspaceMode === 'copy' && (!copyHostPath || !existsSync(copyHostPath))) {
      // The copy folder was cleaned away: the container cannot start without its mount source.
      await removeContainer(docker, plan.reuse.id);
      options.log(`removed the kept sandbox ${plan.reuse.id.slice(0, 12)}: its workspace copy is gone`);
      return {
        ...(await createNew(docker, options, access)),
        origin: { kind: 'rebuilt', previousContainerIds: [plan.reuse.id], previousConfigHashes: [options.configHash] },
      };
    }
    if (copyHostPath) await syncCopy(options.workspaceHostPath, copyHostPath, access, options.withheld);
    await container.rename({ name: ownerContainerName() });
    options.log(`reusing the kept sandbox ${plan.reuse.id.slice(0, 12)} (configuration ${options.configHash} unchanged)`);
    return { container, origin: { kind: 'reused' }, copyHostPath };
  }
  const created = await createNew(docker, options, access);
  const origin: SandboxOrigin =
    plan.removed.length > 0
      ? {
          kind: 'rebuilt',
          previousContainerIds: plan.removed.map((r) => r.id),
          previousConfigHashes: plan.removed.map((r) => r.configHash),
        }
      : { kind: 'created' };
  return { ...created, origin };
}

async function createNew(docker: Dockerode, options: PrepareOptions, access: CopyAccess): Promise<Omit<PreparedContainer, 'origin'>> {
  let spec = options.spec;
  let copyHostPath: string | undefined;
  if (options.workspaceMode === 'copy') {
    copyHostPath = await createCopyFolder(options.workspaceHostPath);
    await syncCopy(options.workspaceHostPath, copyHostPath, access, options.withheld);
    spec = withWorkspaceCopy(spec, options.workspaceHostPath, options.workspaceFolder, copyHostPath, options.hostPlatform);
  }
  spec = {
    ...spec,
    name: ownerContainerName(),
    Labels: {
      ...spec.Labels,
      [LIFECYCLE_LABELS.configHash]: options.configHash,
      [LIFECYCLE_LABELS.workspaceMode]: options.workspaceMode,
      ...(copyHostPath ? { [LIFECYCLE_LABELS.copy]: copyHostPath } : {}),
    },
  };
  try {
    return { container: await docker.createContainer(spec), copyHostPath };
  } catch (error) {
    await removeCopyFolder(copyHostPath);
    throw error;
  }
}

/**
 * Mounts the copy read-write where the workspace was mounted read-only, and the real `.git`
 * read-only on top. Sources are in the engine's form (hostPaths.ts), as planSandbox wrote the workspace's.
 */
export function withWorkspaceCopy(
  spec: Dockerode.ContainerCreateOptions,
  workspaceHostPath: string,
  workspaceFolder: string,
  copyHostPath: string,
  platform: HostPlatform = currentHostPlatform(),
): Dockerode.ContainerCreateOptions {
  const hostConfig = spec.HostConfig ?? {};
  const workspaceSource = bindSource(workspaceHostPath, platform, `the workspace ${workspaceHostPath}`);
  const copySource = bindSource(copyHostPath, platform, `the private copy ${copyHostPath} (warden.sandbox.copiesFolder)`);
  const mounts = (hostConfig.Mounts ?? []).map((m) =>
    m.Target === workspaceFolder && m.Source === workspaceSource ? { ...m, Source: copySource, ReadOnly: false } : m,
  );
  const git = hostPathApi(platform).join(workspaceHostPath, '.git');
  if (existsSync(git))
    mounts.push({
      Type: 'bind',
      Source: bindSource(git, platform, `the workspace's ${git}`),
      Target: path.posix.join(workspaceFolder, '.git'),
      ReadOnly: true,
    });
  return { ...spec, HostConfig: { ...hostConfig, Mounts: mounts } };
}

/**
 * "Warden: Remove Sandbox": removes the kept (stopped) sandboxes of a workspace and their
 * copies. A running one belongs to a live session and is left alone. Returns the ids removed.
 */
export async function removeKeptSandboxes(docker: Dockerode, workspaceHostPath: string): Promise<{ removed: string[]; running: string[] }> {
  const result = { removed: [] as string[], running: [] as string[] };
  for (const kept of await keptSandboxes(docker, workspaceHostPath)) {
    if (kept.running) {
      result.running.push(kept.id);
      continue;
    }
    await removeContainer(docker, kept.id);
    await removeCopyFolder(kept.copyHostPath);
    result.removed.push(kept.id);
  }
  return result;
}
