import { PathOutsideWorkspaceError, type WorkspacePathMapper } from '../sandbox/paths';
import { hostPathProblem } from '../workspace/containment';
import type { ProposalGate } from './gate';

/** A path an agent named, as a workspace path, or why it is refused (already audited). */
export type AgentPathResult = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Paths as agents name them (inside the container) mapped to workspace paths: a path that
 * leaves the workspace, as a string or through the host file system, is refused and audited.
 */
export class AgentPaths {
  constructor(
    private readonly mapper: WorkspacePathMapper,
    private readonly workspaceFolder: string,
    private readonly gate: ProposalGate,
  ) {}

  async toWorkspace(agentPath: string, action: string): Promise<AgentPathResult> {
    let relative: string;
    try {
      relative = this.mapper.toWorkspaceRelative(agentPath);
    } catch (error) {
      if (!(error instanceof PathOutsideWorkspaceError)) throw error;
      await this.gate.refuse({ action, path: agentPath, reason: error.message });
      return { ok: false, reason: error.message };
    }
    // The string stays inside; the host file system must too (no symlink out, no directory).
    const problem = await hostPathProblem(this.mapper.hostRoot, relative);
    if (problem) {
      const reason = `Refused path ${JSON.stringify(agentPath)}: ${problem}`;
      await this.gate.refuse({ action, path: agentPath, reason });
      return { ok: false, reason };
    }
    return { ok: true, path: relative };
  }

  /** A path a command names, relative to its working directory in the container, as a workspace path (null outside it). */
  resolveCommandPath(raw: string, cwd: string): string | null {
    const absolute = raw.startsWith('/') ? raw : `${cwd.replace(/\/$/, '')}/${raw}`;
    try {
      return this.mapper.toWorkspaceRelative(absolute);
    } catch {
      // The workspace folder itself (e.g. `rm -rf .`) is inside the workspace.
      return absolute.replace(/\/+$/, '').replace(/\/\.$/, '') === this.workspaceFolder.replace(/\/$/, '') ? '.' : null;
    }
  }
}
