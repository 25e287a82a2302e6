import type { MountSpec } from './metadata';
import { SandboxError } from './types';

export interface ParsedMount {
  type: 'bind' | 'volume' | 'tmpfs';
  /** Host path (bind) or volume name; none for tmpfs or an anonymous volume. */
  source: string | undefined;
  target: string;
  readOnly: boolean;
}

/**
 * Reads a devcontainer mount: the object form, or Docker's `--mount` string form
 * (`type=bind,source=/a,target=/b,readonly`). `${...}` variables are expanded by the caller.
 */
export function parseMount(mount: MountSpec, where: string): ParsedMount {
  if (typeof mount !== 'string') {
    return { type: mount.type ?? 'bind', source: mount.source || undefined, target: mount.target, readOnly: mount.readonly === true };
  }
  const fields: Record<string, string> = {};
  let readOnly = false;
  for (const part of mount.split(',')) {
    const [rawKey, ...rest] = part.split('=');
    const key = (rawKey ?? '').trim().toLowerCase();
    const value = rest.join('=').trim();
    if (key === 'readonly' || key === 'ro') readOnly = value === '' || value === 'true' || value === '1';
    else if (key) fields[key] = value;
  }
  const type = fields.type ?? 'volume';
  const target = fields.target ?? fields.dst ?? fields.destination;
  if (!target) throw new SandboxError(`devcontainer.json: ${where} "${mount}" has no target`, 'config-invalid');
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') {
    throw new SandboxError(
      `devcontainer.json: ${where} "${mount}" has type "${type}"; Warden supports bind, volume and tmpfs mounts`,
      'config-invalid',
    );
  }
  return { type, source: fields.source ?? fields.src, target, readOnly };
}
