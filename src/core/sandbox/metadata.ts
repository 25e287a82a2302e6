import * as z from 'zod';
import { SandboxError } from './types';

/**
 * The pieces of devcontainer.json that image metadata (the `devcontainer.metadata` label)
 * and features can carry too, and how entries merge: the way the reference
 * @devcontainers/cli does it (src/spec-node/imageMetadata.ts, mergeConfiguration):
 * entries in order base image label, then features, then devcontainer.json; scalars: the
 * last entry that sets one wins; `init`/`privileged`: any; `capAdd`/`securityOpt`: union;
 * `containerEnv`/`remoteEnv`: merged, later keys win; `mounts`: concatenated, a later mount
 * on the same target replaces an earlier one; lifecycle commands: all collected, in order.
 */

export const METADATA_LABEL = 'devcontainer.metadata';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name');
const argv = z.array(z.string()).min(1, 'needs at least the program to run');
/** A string runs through /bin/sh -c; an array runs as argv; an object names commands run one after the other. */
export const lifecycleCommandSchema = z.union([z.string(), argv, z.record(z.string(), z.union([z.string(), argv]))]);
export type LifecycleCommand = z.infer<typeof lifecycleCommandSchema>;

export const mountObjectSchema = z.looseObject({
  type: z.enum(['bind', 'volume', 'tmpfs']).optional(),
  source: z.string().optional(),
  target: z.string().min(1),
  readonly: z.boolean().optional(),
});
export const mountSchema = z.union([z.string().min(1), mountObjectSchema]);
export type MountSpec = z.infer<typeof mountSchema>;

export const LIFECYCLE_HOOKS = [
  'onCreateCommand',
  'updateContentCommand',
  'postCreateCommand',
  'postStartCommand',
  'postAttachCommand',
] as const;
export type LifecycleHook = (typeof LIFECYCLE_HOOKS)[number];

export const metadataEntrySchema = z.looseObject({
  id: z.string().optional(),
  init: z.boolean().optional(),
  privileged: z.boolean().optional(),
  capAdd: z.array(z.string().min(1)).optional(),
  securityOpt: z.array(z.string().min(1)).optional(),
  mounts: z.array(mountSchema).optional(),
  containerEnv: z.record(envName, z.string()).optional(),
  remoteEnv: z.record(envName, z.string().nullable()).optional(),
  containerUser: z.string().min(1).optional(),
  remoteUser: z.string().min(1).optional(),
  onCreateCommand: lifecycleCommandSchema.optional(),
  updateContentCommand: lifecycleCommandSchema.optional(),
  postCreateCommand: lifecycleCommandSchema.optional(),
  postStartCommand: lifecycleCommandSchema.optional(),
  postAttachCommand: lifecycleCommandSchema.optional(),
});
export type MetadataEntry = z.infer<typeof metadataEntrySchema>;

/** An entry and where it came from, for messages ("devcontainer.json", "image label of X", "feature ./x"). */
export interface SourcedEntry {
  origin: string;
  entry: MetadataEntry;
}

export interface LifecycleStep {
  hook: LifecycleHook;
  origin: string;
  command: LifecycleCommand;
}

export interface MergedConfig {
  init: boolean;
  privileged: boolean;
  capAdd: string[];
  securityOpt: string[];
  /** Where privileged/capAdd/securityOpt came from, so a refusal can name it. */
  privilegedOrigin: string | undefined;
  capAddOrigins: { origin: string; caps: string[] }[];
  securityOptOrigins: { origin: string; opts: string[] }[];
  /** With their origin, so a refusal names where a mount came from. */
  mounts: { origin: string; mount: MountSpec }[];
  containerEnv: Record<string, string>;
  remoteEnv: Record<string, string | null>;
  containerUser: string | undefined;
  remoteUser: string | undefined;
  lifecycle: LifecycleStep[];
}

/** Reads an image's `devcontainer.metadata` label: a JSON array of entries, or one entry. */
export function parseMetadataLabel(text: string | undefined, image: string): MetadataEntry[] {
  if (text === undefined || text.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SandboxError(
      `The image ${image} has a "${METADATA_LABEL}" label that is not JSON (${String(error)}); rebuild the image with a valid label`,
      'config-invalid',
    );
  }
  const parsed = z.array(metadataEntrySchema).safeParse(Array.isArray(value) ? value : [value]);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `[${issue.path.join('.')}]: ${issue.message}`).join('; ');
    throw new SandboxError(`The "${METADATA_LABEL}" label of the image ${image} is invalid: ${problems}`, 'config-invalid');
  }
  return parsed.data;
}

/** The metadata part of devcontainer.json (the properties the reference CLI picks into an entry). */
export function pickMetadata(config: Record<string, unknown>): MetadataEntry {
  const keys = Object.keys(metadataEntrySchema.shape).filter((k) => k !== 'id');
  const picked: Record<string, unknown> = {};
  for (const key of keys) if (key in config) picked[key] = config[key];
  return metadataEntrySchema.parse(picked);
}

/** Where a mount lands, to let a later mount on the same target replace an earlier one. */
export function mountTarget(mount: MountSpec): string {
  if (typeof mount !== 'string') return mount.target;
  for (const part of mount.split(',')) {
    const [key, value] = part.split('=');
    if (key && ['target', 'dst', 'destination'].includes(key.trim())) return (value ?? '').trim();
  }
  return mount;
}

export function mergeMetadata(entries: readonly SourcedEntry[]): MergedConfig {
  const last = <K extends keyof MetadataEntry>(key: K): MetadataEntry[K] | undefined =>
    [...entries].reverse().find((e) => e.entry[key] !== undefined)?.entry[key];
  const union = (key: 'capAdd' | 'securityOpt'): string[] => [...new Set(entries.flatMap((e) => e.entry[key] ?? []))];
  const allMounts = entries.flatMap((e) => (e.entry.mounts ?? []).map((mount) => ({ origin: e.origin, mount })));
  const seen = new Set<string>();
  const mounts = allMounts
    .reverse()
    .filter((m) => {
      const target = mountTarget(m.mount);
      if (seen.has(target)) return false;
      seen.add(target);
      return true;
    })
    .reverse();
  const lifecycle: LifecycleStep[] = [];
  for (const hook of LIFECYCLE_HOOKS) {
    for (const e of entries) {
      const command = e.entry[hook];
      if (command !== undefined && !(typeof command === 'string' && command.trim() === ''))
        lifecycle.push({ hook, origin: e.origin, command });
    }
  }
  return {
    init: entries.some((e) => e.entry.init === true),
    privileged: entries.some((e) => e.entry.privileged === true),
    capAdd: union('capAdd'),
    securityOpt: union('securityOpt'),
    privilegedOrigin: entries.find((e) => e.entry.privileged === true)?.origin,
    capAddOrigins: entries.filter((e) => e.entry.capAdd?.length).map((e) => ({ origin: e.origin, caps: e.entry.capAdd ?? [] })),
    securityOptOrigins: entries
      .filter((e) => e.entry.securityOpt?.length)
      .map((e) => ({ origin: e.origin, opts: e.entry.securityOpt ?? [] })),
    mounts,
    containerEnv: Object.assign({}, ...entries.map((e) => e.entry.containerEnv ?? {})) as Record<string, string>,
    remoteEnv: Object.assign({}, ...entries.map((e) => e.entry.remoteEnv ?? {})) as Record<string, string | null>,
    containerUser: last('containerUser'),
    remoteUser: last('remoteUser'),
    lifecycle,
  };
}
