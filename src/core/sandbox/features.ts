import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Dockerode from 'dockerode';
import * as tar from 'tar-fs';
import * as z from 'zod';
import { sha256Hex } from '../util/hash';
import type { DevcontainerConfig, LoadedDevcontainer } from './devcontainer';
import { runBuild, type ImageReporter } from './image';
import { METADATA_LABEL, metadataEntrySchema, type MetadataEntry, type SourcedEntry } from './metadata';
import { SandboxError } from './types';

/**
 * Local dev container features (`"features": { "./my-feature": {...} }`): folders next to
 * devcontainer.json holding devcontainer-feature.json and install.sh. Like the reference CLI,
 * Warden builds them into a derived image, one RUN per feature as root, with the options as
 * environment variables (upper-cased, non-word characters as "_"), and records their metadata
 * (containerEnv, mounts, capAdd, lifecycle commands, ...) as entries merged before
 * devcontainer.json's own. Features from a registry are refused: no registry is used.
 */

const optionValue = z.union([z.string(), z.boolean(), z.number()]);
const featureManifestSchema = z.looseObject({
  id: z.string().min(1),
  version: z.string().optional(),
  name: z.string().optional(),
  options: z.record(z.string(), z.looseObject({ type: z.string().optional(), default: optionValue.optional() })).optional(),
  entrypoint: z.string().optional(),
  ...metadataEntrySchema.omit({ id: true, remoteUser: true, containerUser: true, remoteEnv: true }).shape,
});

export interface LocalFeature {
  /** As written in devcontainer.json ("./node-tools"). */
  ref: string;
  /** Absolute host folder. */
  folder: string;
  id: string;
  /** The install.sh environment. */
  env: Record<string, string>;
  /** What the feature adds to the configuration (merged like image metadata). */
  entry: MetadataEntry;
}

/** The env name of a feature option, the way the reference CLI derives it. */
export function optionEnvName(option: string): string {
  return option
    .replace(/[^\w_]/g, '_')
    .replace(/^[\d_]+/g, '_')
    .toUpperCase();
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Reads the features devcontainer.json names, in install order (overrideFeatureInstallOrder first, then as written). */
export async function loadLocalFeatures(loaded: LoadedDevcontainer, workspaceHostPath: string): Promise<LocalFeature[]> {
  const features = loaded.config.features ?? {};
  const refs = Object.keys(features);
  const order = [
    ...(loaded.config.overrideFeatureInstallOrder ?? []).filter((r) => refs.includes(r)),
    ...refs.filter((r) => !(loaded.config.overrideFeatureInstallOrder ?? []).includes(r)),
  ];
  const result: LocalFeature[] = [];
  for (const ref of order) {
    const value = features[ref];
    if (value === false) continue;
    if (!ref.startsWith('./')) {
      throw new SandboxError(
        `devcontainer.json: the feature "${ref}" comes from a registry; Warden installs only local features (folders like "./my-feature" next to devcontainer.json). Vendor it into .devcontainer/ or bake it into the image.`,
        'config-invalid',
      );
    }
    const folder = path.resolve(path.dirname(loaded.configPath), ref);
    if (!isInside(folder, workspaceHostPath))
      throw new SandboxError(`devcontainer.json: the feature ${ref} is outside the workspace`, 'config-invalid');
    const manifestPath = path.join(folder, 'devcontainer-feature.json');
    const text = await fs.readFile(manifestPath, 'utf8').catch(() => {
      throw new SandboxError(
        `devcontainer.json: the feature ${ref} has no ${path.relative(workspaceHostPath, manifestPath)}`,
        'config-invalid',
      );
    });
    if (
      !(await fs.stat(path.join(folder, 'install.sh')).then(
        (s) => s.isFile(),
        () => false,
      ))
    ) {
      throw new SandboxError(`devcontainer.json: the feature ${ref} has no install.sh`, 'config-invalid');
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new SandboxError(`${manifestPath}: not JSON (${String(error)})`, 'config-invalid');
    }
    const manifest = featureManifestSchema.safeParse(raw);
    if (!manifest.success) {
      throw new SandboxError(
        `${manifestPath}: ${manifest.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
        'config-invalid',
      );
    }
    // `true` takes the defaults; a string is shorthand for { "version": ... } (as in the spec).
    const chosen: Record<string, string | boolean | number> =
      typeof value === 'string' ? { version: value } : typeof value === 'object' ? value : {};
    const env: Record<string, string> = {};
    for (const [option, definition] of Object.entries(manifest.data.options ?? {})) {
      if (definition.default !== undefined) env[optionEnvName(option)] = String(definition.default);
    }
    for (const [option, v] of Object.entries(chosen)) env[optionEnvName(option)] = String(v);
    const { id, version: _version, name: _name, options: _options, entrypoint: _entrypoint, ...rest } = manifest.data;
    result.push({ ref, folder, id, env, entry: metadataEntrySchema.parse({ ...rest, id: ref }) });
  }
  return result;
}

export function featureEntries(features: readonly LocalFeature[]): SourcedEntry[] {
  return features.map((f) => ({ origin: `feature ${f.ref}`, entry: f.entry }));
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function hashFolder(folder: string): Promise<string> {
  const parts: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isSymbolicLink()) parts.push(`${path.relative(folder, full)} -> ${await fs.readlink(full)}`);
      else if (entry.isFile()) parts.push(`${path.relative(folder, full)} ${sha256Hex(await fs.readFile(full))}`);
    }
  };
  await walk(folder);
  return sha256Hex(parts.join('\n'));
}

/**
 * Builds the features into an image derived from `baseImage` (cached by content) and returns its
 * tag. The image's devcontainer.metadata label holds the base image's entries plus the features'.
 */
export async function buildFeaturesImage(
  docker: Dockerode,
  baseImage: string,
  baseEntries: readonly MetadataEntry[],
  features: readonly LocalFeature[],
  config: DevcontainerConfig,
  report: ImageReporter,
): Promise<string> {
  const remoteUser = config.remoteUser ?? config.containerUser ?? '1000';
  const containerUser = config.containerUser ?? remoteUser;
  const lines = [`FROM ${baseImage}`, 'USER root'];
  const stage = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-features-'));
  try {
    for (const [index, feature] of features.entries()) {
      const dir = `f${index}`;
      // Links are copied as links: nothing outside the feature folder is read.
      await fs.cp(feature.folder, path.join(stage, dir), { recursive: true, verbatimSymlinks: true });
      const env = { ...feature.env, _REMOTE_USER: remoteUser, _CONTAINER_USER: containerUser };
      await fs.writeFile(
        path.join(stage, dir, '.warden-feature.env'),
        Object.entries(env)
          .map(([k, v]) => `export ${k}=${shellQuote(v)}\n`)
          .join(''),
      );
      lines.push(
        `COPY ${dir}/ /tmp/warden-features/${dir}/`,
        `RUN cd /tmp/warden-features/${dir} && . ./.warden-feature.env && chmod +x ./install.sh && ./install.sh && rm -rf /tmp/warden-features/${dir}`,
      );
    }
    const dockerfile = `${lines.join('\n')}\n`;
    await fs.writeFile(path.join(stage, 'Dockerfile'), dockerfile);
    const baseId = await docker
      .getImage(baseImage)
      .inspect()
      .then(
        (i: { Id?: string }) => i.Id ?? baseImage,
        () => baseImage,
      );
    const hashes = await Promise.all(features.map((f) => hashFolder(f.folder)));
    const tag = `warden-features-${sha256Hex(JSON.stringify([baseId, dockerfile, hashes, features.map((f) => f.env), remoteUser])).slice(0, 16)}`;
    report.log(`installing features ${features.map((f) => f.ref).join(', ')} into ${tag}`);
    const label = JSON.stringify([...baseEntries, ...features.map((f) => f.entry)]);
    return await runBuild(
      docker,
      {
        context: tar.pack(stage),
        tag,
        dockerfile: 'Dockerfile',
        describe: `features (${features.map((f) => f.ref).join(', ')})`,
        labels: { [METADATA_LABEL]: label },
      },
      report,
    );
  } finally {
    await fs.rm(stage, { recursive: true, force: true });
  }
}
