import { enginePath, type HostPlatform } from './hostPaths';
import { SandboxError } from './types';

/** A host folder the engine cannot bind-mount (a network share, a relative path): refused before anything runs. */
export class UnmountablePathError extends SandboxError {
  constructor(
    readonly role: string,
    readonly hostPath: string,
    reason: string,
  ) {
    super(`Warden cannot bind-mount ${role} into the sandbox: ${reason}. Nothing was started.`, 'config-invalid');
  }
}

/** The bind source for a host folder, in the form the engine takes; throws UnmountablePathError with the reason. */
export function bindSource(hostPath: string, platform: HostPlatform, role: string): string {
  const translated = enginePath(hostPath, platform);
  if (!translated.ok) throw new UnmountablePathError(role, hostPath, translated.reason);
  return translated.source;
}
