/** A write the reviewer already approved through a permission request, bytes pinned by hash. */
export interface WriteGrant {
  path: string;
  newHash: string;
  /** The file as the reviewer saw it; if it changed since, the write is stale. */
  oldText: string | null;
  proposalId: string;
}

/**
 * Approvals of permission requests, each used once by the request that carries it out (an
 * fs/write_text_file or a change in the copy with exactly these bytes, a terminal running
 * exactly this command line).
 */
export class Grants {
  private readonly writes: WriteGrant[] = [];
  private readonly commands: Array<{ commandLine: string; proposalId: string }> = [];
  /** host:port -> the network proposal whose approval covers it for the rest of the session (not used up). */
  private readonly hosts = new Map<string, string>();

  grantWrite(grant: WriteGrant): void {
    this.writes.push(grant);
  }

  grantCommand(commandLine: string, proposalId: string): void {
    this.commands.push({ commandLine, proposalId });
  }

  grantHost(hostPort: string, proposalId: string): void {
    this.hosts.set(hostPort, proposalId);
  }

  hostGrant(hostPort: string): string | undefined {
    return this.hosts.get(hostPort);
  }

  takeWrite(path: string, newHash: string): WriteGrant | undefined {
    const index = this.writes.findIndex((g) => g.path === path && g.newHash === newHash);
    return index < 0 ? undefined : this.writes.splice(index, 1)[0];
  }

  takeCommand(commandLine: string): { proposalId: string } | undefined {
    const index = this.commands.findIndex((g) => g.commandLine === commandLine);
    return index < 0 ? undefined : this.commands.splice(index, 1)[0];
  }
}
