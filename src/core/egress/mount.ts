import type Dockerode from 'dockerode';
import { EGRESS_MOUNT } from './session';

/**
 * Adds the egress proxy's socket folder to a container spec (read-only: connecting to a
 * socket needs no write access to its file system). The network mode stays `none`: the
 * socket is the only way out, and only when the policy allows hosts.
 */
export function withEgressMount(spec: Dockerode.ContainerCreateOptions, hostFolder: string | undefined): Dockerode.ContainerCreateOptions {
  if (!hostFolder) return spec;
  const hostConfig = spec.HostConfig ?? {};
  return {
    ...spec,
    Labels: { ...spec.Labels, 'dev.warden.egress': 'proxy' },
    HostConfig: {
      ...hostConfig,
      NetworkMode: 'none',
      Mounts: [...(hostConfig.Mounts ?? []), { Type: 'bind', Source: hostFolder, Target: EGRESS_MOUNT, ReadOnly: true }],
    },
  };
}
