import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import * as tar from 'tar-fs';
import { sha256Hex } from '../util/hash';
import type { ImageSource } from './devcontainer';
import { dockerMessage } from './dockerErrors';
import { readProgress, type ProgressLine } from './progress';
import { SandboxError, type SandboxProgress } from './types';

export interface ImageReporter {
  log: (line: string) => void;
  progress: (progress: SandboxProgress) => void;
}

const MB = 1024 * 1024;

const LAYER_STATUS =
  /^(Pulling fs layer|Waiting|Downloading|Verifying Checksum|Download complete|Extracting|Pull complete|Already exists)$/;

/** Sums the layers of a pull into one line and fraction: each layer reports its own bytes. */
export class PullProgress {
  private readonly layers = new Map<string, { status: string; current: number; total: number }>();

  update(line: ProgressLine): SandboxProgress | undefined {
    // "Pulling from library/node" carries the tag as its id: only layer states count.
    if (!line.id || !line.status || !LAYER_STATUS.test(line.status)) return undefined;
    const layer = this.layers.get(line.id) ?? { status: '', current: 0, total: 0 };
    layer.status = line.status;
    const detail = line.progressDetail;
    if (line.status === 'Downloading' && detail?.total) {
      layer.current = detail.current ?? 0;
      layer.total = detail.total;
    }
    if (/^(Download complete|Pull complete|Already exists|Verifying Checksum)$/.test(line.status) && layer.total > 0)
      layer.current = layer.total;
    this.layers.set(line.id, layer);
    const all = [...this.layers.values()];
    const done = all.filter((l) => /^(Pull complete|Already exists)$/.test(l.status)).length;
    const current = all.reduce((n, l) => n + l.current, 0);
    const total = all.reduce((n, l) => n + l.total, 0);
    const bytes = total > 0 ? `, ${(current / MB).toFixed(1)} of ${(total / MB).toFixed(1)} MB` : '';
    return { message: `${done} of ${all.length} layers${bytes}`, ...(total > 0 ? { fraction: Math.min(1, current / total) } : {}) };
  }
}

/** A named image: the local one if present, else a pull (per-layer progress), which fails without a registry. */
export async function ensureImage(docker: Dockerode, image: string, report: ImageReporter): Promise<string> {
  if (
    await docker
      .getImage(image)
      .inspect()
      .then(
        () => true,
        () => false,
      )
  )
    return image;
  report.log(`image ${image} is not present locally; pulling it`);
  report.progress({ message: `Pulling ${image}` });
  try {
    const stream = await docker.pull(image);
    const seen = new Set<string>();
    const layers = new PullProgress();
    await readProgress(stream, (line) => {
      if (line.error) throw new Error(line.errorDetail?.message ?? line.error);
      const text = [line.id, line.status].filter(Boolean).join(': ');
      if (text && !seen.has(text)) {
        seen.add(text); // layers report progress many times a second: log each state once
        report.log(`pull ${text}`);
      }
      const overall = layers.update(line);
      if (overall) report.progress({ ...overall, message: `Pulling ${image}: ${overall.message}` });
    });
  } catch (error) {
    throw new SandboxError(
      `The image "${image}" is not available locally and pulling it failed (${dockerMessage(error).trim()}). ` +
        `No image registry could be reached, or it does not have this image: pull it yourself (docker pull ${image}), build or load it locally (docker build / docker load), or point devcontainer.json at a Dockerfile with "build".`,
      'image-unavailable',
    );
  }
  return image;
}

export interface BuildRequest {
  /** The build context as a tar stream. */
  context: Parameters<typeof Readable.from>[0];
  tag: string;
  /** Path of the Dockerfile inside the context. */
  dockerfile: string;
  /** For messages: the Dockerfile as the user knows it. */
  describe: string;
  args?: Record<string, string>;
  target?: string | undefined;
  labels?: Record<string, string>;
}

/**
 * Runs a classic-builder build (what the engine API gives without BuildKit), streaming its log
 * to the output channel and each step to the progress notification; a failing step is named
 * with its number and instruction ("Step 3/5 RUN npm ci failed with exit code 1").
 */
export async function runBuild(docker: Dockerode, request: BuildRequest, report: ImageReporter): Promise<string> {
  let step: { number: number; count: number; instruction: string } | undefined;
  try {
    const stream = await docker.buildImage(Readable.from(request.context, { objectMode: false }), {
      t: request.tag,
      dockerfile: request.dockerfile,
      buildargs: request.args ?? {},
      ...(request.target ? { target: request.target } : {}),
      ...(request.labels ? { labels: request.labels } : {}),
      rm: true,
      forcerm: true,
      // Build steps get no network either: no bridge network is ever attached.
      networkmode: 'none',
    });
    await readProgress(stream, (line) => {
      for (const text of (line.stream ?? line.status ?? '')
        .split('\n')
        .map((l) => l.trimEnd())
        .filter(Boolean)) {
        const match = /^Step (\d+)\/(\d+) : (.*)$/.exec(text);
        if (match) {
          step = { number: Number(match[1]), count: Number(match[2]), instruction: match[3] ?? '' };
          report.progress({
            message: `Building ${request.describe}: Step ${step.number}/${step.count} ${step.instruction}`,
            fraction: (step.number - 1) / step.count,
          });
        }
        report.log(`build ${text}`);
      }
      if (line.error) throw new BuildStepError(line.errorDetail?.message ?? line.error, line.errorDetail?.code);
    });
  } catch (error) {
    const detail = dockerMessage(error).trim();
    const code = error instanceof BuildStepError ? (error.exitCode ?? Number(/non-zero code: (\d+)/.exec(detail)?.[1] ?? NaN)) : NaN;
    const what = step
      ? `Step ${step.number}/${step.count} ${step.instruction} failed${Number.isFinite(code) ? ` with exit code ${code}` : ''}`
      : 'the build did not start';
    throw new SandboxError(
      `Building ${request.describe} failed: ${what} (${detail}). Fix that step and start the session again; the full build log is in the Warden output channel.`,
      'build-failed',
    );
  }
  report.progress({ message: `Built ${request.describe}`, fraction: 1 });
  return request.tag;
}

class BuildStepError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | undefined,
  ) {
    super(message);
  }
}

/** Builds build.dockerfile; the tag names the configuration so repeated starts reuse the layer cache. */
export async function buildImage(
  docker: Dockerode,
  source: Extract<ImageSource, { kind: 'build' }>,
  workspaceHostPath: string,
  report: ImageReporter,
): Promise<string> {
  const dockerfileText = await fs.readFile(source.dockerfilePath, 'utf8').catch((error: unknown) => {
    throw new SandboxError(
      `The Dockerfile ${source.dockerfilePath} named in devcontainer.json cannot be read: ${dockerMessage(error)}`,
      'config-invalid',
    );
  });
  const relative = path.relative(source.contextPath, source.dockerfilePath);
  const inContext = !relative.startsWith('..') && !path.isAbsolute(relative);
  const dockerfileInTar = inContext ? relative.split(path.sep).join('/') : '.warden.Dockerfile';
  const tag = `warden-build-${sha256Hex(JSON.stringify([dockerfileText, source.contextPath, dockerfileInTar, source.args, source.target ?? null])).slice(0, 16)}`;
  const describe = path.relative(workspaceHostPath, source.dockerfilePath);
  report.log(`building ${describe} (context ${path.relative(workspaceHostPath, source.contextPath) || '.'}) as ${tag}`);

  // Symlinks are sent as links (tar-fs does not dereference), so none can pull host files in.
  const context = tar.pack(
    source.contextPath,
    inContext
      ? {}
      : {
          finalize: false,
          finish: (pack) => {
            pack.entry({ name: dockerfileInTar }, dockerfileText);
            pack.finalize();
          },
        },
  );
  return runBuild(docker, { context, tag, dockerfile: dockerfileInTar, describe, args: source.args, target: source.target }, report);
}
