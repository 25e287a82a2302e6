import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import * as tar from 'tar-fs';
import { sha256Hex } from '../util/hash';
import type { ImageSource } from './devcontainer';
import { dockerMessage } from './dockerErrors';
import { readProgress } from './progress';
import { SandboxError } from './types';

/** A named image: the local one if present, else a pull (which fails without a registry). */
export async function ensureImage(docker: Dockerode, image: string, log: (line: string) => void): Promise<string> {
  if (await docker.getImage(image).inspect().then(() => true, () => false)) return image;
  log(`image ${image} is not present locally; pulling it`);
  try {
    const stream = await docker.pull(image);
    const seen = new Set<string>();
    await readProgress(stream, (line) => {
      const text = [line.id, line.status].filter(Boolean).join(': ');
      if (line.error) throw new Error(line.error);
      if (text && !seen.has(text)) {
        seen.add(text); // layers report progress many times a second: log each state once
        log(`pull ${text}`);
      }
    });
  } catch (error) {
    throw new SandboxError(
      `The image "${image}" is not available locally and pulling it failed (${dockerMessage(error).trim()}). ` +
        'No image registry could be reached, or it does not have this image: build or load the image locally (docker build / docker load), or point devcontainer.json at a Dockerfile with "build".',
      'image-unavailable',
    );
  }
  return image;
}

/** Builds build.dockerfile; the tag names the configuration so repeated starts reuse the layer cache. */
export async function buildImage(docker: Dockerode, source: Extract<ImageSource, { kind: 'build' }>, workspaceHostPath: string, log: (line: string) => void): Promise<string> {
  const dockerfileText = await fs.readFile(source.dockerfilePath, 'utf8').catch((error: unknown) => {
    throw new SandboxError(`The Dockerfile ${source.dockerfilePath} named in devcontainer.json cannot be read: ${dockerMessage(error)}`, 'config-invalid');
  });
  const relative = path.relative(source.contextPath, source.dockerfilePath);
  const inContext = !relative.startsWith('..') && !path.isAbsolute(relative);
  const dockerfileInTar = inContext ? relative.split(path.sep).join('/') : '.warden.Dockerfile';
  const tag = `warden-build-${sha256Hex(JSON.stringify([dockerfileText, source.contextPath, dockerfileInTar, source.args, source.target ?? null])).slice(0, 16)}`;
  log(`building ${path.relative(workspaceHostPath, source.dockerfilePath)} (context ${path.relative(workspaceHostPath, source.contextPath) || '.'}) as ${tag}`);

  // Symlinks are sent as links (tar-fs does not dereference), so none can pull host files in.
  const context = tar.pack(source.contextPath, inContext ? {} : {
    finalize: false,
    finish: (pack) => {
      pack.entry({ name: dockerfileInTar }, dockerfileText);
      pack.finalize();
    },
  });
  let step = '';
  try {
    const stream = await docker.buildImage(Readable.from(context, { objectMode: false }), {
      t: tag,
      dockerfile: dockerfileInTar,
      buildargs: source.args,
      ...(source.target ? { target: source.target } : {}),
      rm: true,
      forcerm: true,
      // Build steps get no network either: no bridge network is ever attached.
      networkmode: 'none',
    });
    await readProgress(stream, (line) => {
      for (const text of (line.stream ?? line.status ?? '').split('\n').map((l) => l.trimEnd()).filter(Boolean)) {
        const match = /^Step \d+\/\d+ : (.*)$/.exec(text);
        if (match?.[1]) step = match[1];
        log(`build ${text}`);
      }
      if (line.error) throw new Error(line.errorDetail?.message ?? line.error);
    });
  } catch (error) {
    const at = step ? ` at step "${step}"` : '';
    throw new SandboxError(`Building ${source.dockerfilePath} failed${at}: ${dockerMessage(error).trim()}`, 'build-failed');
  }
  return tag;
}
