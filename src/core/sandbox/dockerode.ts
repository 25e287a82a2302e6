import type Dockerode from 'dockerode';

/**
 * The dockerode class. dockerode (with ssh2 and its crypto) takes a noticeable share of the
 * extension's activation, and no Docker call happens before a session starts: it is loaded at
 * the first client, or earlier when the editor preloads it while the window is idle (issue 21).
 */
export function loadDockerClient(): typeof Dockerode {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded at first use, not at activation (see above)
  return require('dockerode') as typeof Dockerode;
}

/** A dockerode client. */
export function newDockerode(options?: Dockerode.DockerOptions): Dockerode {
  const DockerodeClient = loadDockerClient();
  return new DockerodeClient(options);
}
