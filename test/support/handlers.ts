import { strict as assert } from 'node:assert';
import { TerminalRegistry } from '../../src/core/agent/terminals';
import type { AuditEventInput } from '../../src/core/audit/types';
import { loadPolicyText, mergePolicies, type EffectivePolicy } from '../../src/core/policy';
import { ProposalStore } from '../../src/core/proposals/store';
import { WorkspacePathMapper } from '../../src/core/sandbox/paths';
import type { Sandbox } from '../../src/core/sandbox/types';
import { ProposalGate, type GateDeps } from '../../src/core/session/gate';
import { ProposalHandlers, type ProposalHandlerDeps } from '../../src/core/session/proposalHandlers';
import type { WorkspaceFiles } from '../../src/core/workspace/files';

export interface HandlerRig {
  h: ProposalHandlers;
  store: ProposalStore;
  audit: Array<Omit<AuditEventInput, 'sessionId'>>;
}

/** The ACP handlers without Docker: the sandbox never runs anything and nothing is written. */
export function handlerRig(options: { policyText?: string; deps?: Partial<ProposalHandlerDeps> & Partial<GateDeps> } = {}): HandlerRig {
  let policy: EffectivePolicy | undefined;
  if (options.policyText !== undefined) {
    const loaded = loadPolicyText(options.policyText);
    assert.ok(loaded.ok);
    policy = mergePolicies({ team: { status: 'loaded', policy: loaded.value } });
  }
  const store = new ProposalStore();
  const audit: Array<Omit<AuditEventInput, 'sessionId'>> = [];
  const files: WorkspaceFiles = {
    read: async (p) => (p === 'src/a.js' || p === 'keys/id.pem' ? `// ${p}\n` : null),
    write: async () => {
      throw new Error('nothing is written in this test');
    },
  };
  const sandbox = {
    containerId: 'c',
    workspaceFolder: '/workspaces/demo',
    agentsFolder: '/opt/warden/agents',
    image: 'img',
    execAgent: async () => {
      throw new Error('not used');
    },
    runCommand: async () => {
      throw new Error('not used');
    },
    stop: async () => undefined,
  } satisfies Sandbox;
  const common = {
    sessionId: 's-1',
    store,
    files,
    record: async (e: Omit<AuditEventInput, 'sessionId'>) => void audit.push(e),
    agentActor: () => ({ kind: 'agent' as const, id: 'test-agent' }),
    ...(policy ? { policy: () => policy } : {}),
    ...options.deps,
  };
  const h = new ProposalHandlers({
    gate: new ProposalGate(common),
    sandbox,
    mapper: new WorkspacePathMapper('/host/demo', '/workspaces/demo'),
    terminals: new TerminalRegistry(),
    onEvent: () => undefined,
    ...common,
  });
  return { h, store, audit };
}
