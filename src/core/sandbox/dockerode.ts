import type Dockerode from 'dockerode';

/**
 * A dockerode client. dockerode (with ssh2 and its crypto) takes a noticeable share of the
 * extension's activation, and no Docker call happens before a session starts: it is loaded
 * when the first client is made.
 */
export function newDockerode(options?: Dockerode.DockerOptions): Dockerode {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded at first use, not at activation (see above)
  const DockerodeClient = require('dockerode') as typeof Dockerode;
  return new DockerodeClient(options);
}
