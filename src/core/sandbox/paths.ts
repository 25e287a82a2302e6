import * as path from 'node:path';

/** A path the agent named that Warden will not touch: outside the workspace, or malformed. */
export class PathOutsideWorkspaceError extends Error {
  constructor(
    readonly requested: string,
    reason: string,
  ) {
    super(`Refused path ${JSON.stringify(requested)}: ${reason}`);
  }
}

/**
 * Maps paths between the agent's view (inside the container, where the workspace is
 * mounted at `containerRoot`) and the real workspace on the host. Every path an agent
 * sends goes through `toWorkspaceRelative`, so `..`, symlink-style tricks in the string
 * and absolute paths elsewhere are refused before any file is read or proposed.
 */
export class WorkspacePathMapper {
  constructor(
    readonly hostRoot: string,
    readonly containerRoot: string,
  ) {}

  /** Workspace-relative POSIX path for a path the agent sent (absolute in the container, or relative to it). */
  toWorkspaceRelative(agentPath: string): string {
    if (agentPath.length === 0) throw new PathOutsideWorkspaceError(agentPath, 'the path is empty');
    if (agentPath.includes('\0')) throw new PathOutsideWorkspaceError(agentPath, 'the path contains a NUL byte');
    const absolute = path.posix.resolve(this.containerRoot, agentPath);
    const relative = path.posix.relative(this.containerRoot, absolute);
    if (relative === '') throw new PathOutsideWorkspaceError(agentPath, 'it is the workspace folder itself, not a file');
    if (relative.startsWith('..') || path.posix.isAbsolute(relative)) {
      throw new PathOutsideWorkspaceError(agentPath, `it is outside the workspace (${this.containerRoot})`);
    }
    return relative;
  }

  toHost(relative: string): string {
    return path.join(this.hostRoot, ...relative.split('/'));
  }

  toContainer(relative: string): string {
    return path.posix.join(this.containerRoot, relative);
  }
}
