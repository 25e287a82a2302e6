import { spawn } from 'node:child_process';
import { TerminalRegistry } from '../../src/core/agent/terminals';
import type { AuditEventInput } from '../../src/core/audit/types';
import { loadPolicyText, mergePolicies, type EffectivePolicy } from '../../src/core/policy';
import type { Decision, Proposal } from '../../src/core/proposals/model';
import { ProposalStore } from '../../src/core/proposals/store';
import { WorkspacePathMapper } from '../../src/core/sandbox/paths';
import type { AgentProcess, Sandbox } from '../../src/core/sandbox/types';
import { ProposalGate } from '../../src/core/session/gate';
import { ProposalHandlers, type ProposalHandlerDeps } from '../../src/core/session/proposalHandlers';
import type { SessionEvent } from '../../src/core/session/sessionEvents';
import { sha256Hex } from '../../src/core/util/hash';
import type { WorkspaceFiles } from '../../src/core/workspace/files';

export const CONTAINER = '/workspaces/demo';
export const reviewer = { kind: 'human' as const, name: 'Ada', email: 'ada@example.test', source: 'test' };

export interface ProtocolRig {
  store: ProposalStore;
  audit: Array<Omit<AuditEventInput, 'sessionId'>>;
  events: SessionEvent[];
  disk: Map<string, string>;
  writes: string[];
  deps: ProposalHandlerDeps;
  handlers: ProposalHandlers;
}

/** Proposal handlers over an in-memory workspace (no Docker; nothing may run). */
export function protocolRig(
  options: { files?: Record<string, string>; policyText?: string; decisionTimeoutMs?: number } = {},
): ProtocolRig {
  const store = new ProposalStore();
  const audit: ProtocolRig['audit'] = [];
  const events: SessionEvent[] = [];
  const disk = new Map(Object.entries(options.files ?? {}));
  const writes: string[] = [];
  const files: WorkspaceFiles = {
    read: async (p) => disk.get(p) ?? null,
    write: async (p, text) => {
      writes.push(p);
      disk.set(p, text);
      return { diskHash: sha256Hex(text) };
    },
  };
  let policy: EffectivePolicy | undefined;
  if (options.policyText !== undefined) {
    const loaded = loadPolicyText(options.policyText);
    if (!loaded.ok) throw new Error('bad test policy');
    policy = mergePolicies({ team: { status: 'loaded', policy: loaded.value } });
  }
  const sandbox = {
    containerId: 'c',
    workspaceFolder: CONTAINER,
    agentsFolder: '/opt/warden/agents',
    image: 'img',
    execAgent: async () => {
      throw new Error('not used');
    },
    runCommand: async () => {
      throw new Error('nothing runs in protocol tests');
    },
    stop: async () => undefined,
  } satisfies Sandbox;
  const record = async (e: Omit<AuditEventInput, 'sessionId'>): Promise<void> => void audit.push(e);
  const agentActor = () => ({ kind: 'agent' as const, id: 'test-agent' });
  const gate = new ProposalGate({
    sessionId: 's-proto',
    store,
    files,
    record,
    agentActor,
    ...(policy ? { policy: () => policy } : {}),
    ...(options.decisionTimeoutMs ? { decisionTimeoutMs: options.decisionTimeoutMs } : {}),
  });
  const deps: ProposalHandlerDeps = {
    sessionId: 's-proto',
    gate,
    sandbox,
    mapper: new WorkspacePathMapper('/host/demo', CONTAINER),
    store,
    files,
    terminals: new TerminalRegistry(),
    record,
    agentActor,
    onEvent: (e) => void events.push(e),
  };
  return { store, audit, events, disk, writes, deps, handlers: new ProposalHandlers(deps) };
}

/** Decides every pending proposal as it appears, with `decide(proposal)` (undefined leaves it pending). */
export function autoDecide(store: ProposalStore, decide: (p: Proposal) => Partial<Decision> | undefined): { dispose(): void } {
  const seen = new Set<string>();
  const check = (): void => {
    for (const p of store.pending()) {
      if (seen.has(p.id)) continue;
      seen.add(p.id);
      const d = decide(p);
      if (d) queueMicrotask(() => store.decide(p.id, { verdict: 'approve', reviewer, decidedAt: new Date().toISOString(), ...d }));
    }
  };
  return store.onDidChange(check);
}

/** A real child process as the agent: what `docker exec` gives the supervisor. */
export function spawnAgent(script: string, env: Record<string, string> = {}): AgentProcess {
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const exited = new Promise<{ exitCode: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (exitCode, signal) => resolve({ exitCode, signal })),
  );
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    exited,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
