import type { UnlistedAnswer, UnlistedRequest } from '../egress/proxy';
import type { EffectivePolicy, PolicyVerdict } from '../policy';
import type { NetworkProposal, Proposal } from '../proposals/model';
import type { ProposalGate } from './gate';

export interface NetworkAskDeps {
  sessionId: string;
  /** The session's one gate, once it exists (requests before that are refused). */
  gate(): ProposalGate | undefined;
  policy(): EffectivePolicy | undefined;
  /** The session's proposals now: which commands are running. */
  proposals(): readonly Proposal[];
}

/**
 * Requests to hosts the allow-list does not name, as proposals: the proxy holds the connection
 * while the session's gate asks (mint, policy, wait, audit), so nothing goes out before a human
 * approves. An approval covers that host:port for the rest of the session.
 */
export class NetworkAsks {
  /** One ask per host:port at a time: a second request waits for the first's decision. */
  private readonly asking = new Map<string, Promise<UnlistedAnswer>>();

  constructor(private readonly deps: NetworkAskDeps) {}

  async decide(request: UnlistedRequest): Promise<UnlistedAnswer> {
    const command = this.commandOf(request);
    const key = `${request.host}:${request.port}`;
    const policy = this.deps.policy();
    if (policy?.network?.unlisted === 'deny' || (policy && !policy.valid)) {
      return { approved: false, rule: 'network.unlisted', reason: `${request.reason} (the policy's network.unlisted is "deny")`, command };
    }
    const gate = this.deps.gate();
    if (!gate) return { approved: false, rule: 'network.ask', reason: `${request.reason}, and the session is not ready to ask`, command };
    const granted = gate.hostGrant(key);
    if (granted) {
      return {
        approved: true,
        rule: 'network.session-grant',
        reason: 'approved earlier in this session',
        command,
        approval: `session-grant:${granted}`,
      };
    }
    const running = this.asking.get(key);
    if (running) return { ...(await running), command };
    const asked = this.ask(gate, request, command).finally(() => this.asking.delete(key));
    this.asking.set(key, asked);
    return asked;
  }

  private async ask(gate: ProposalGate, request: UnlistedRequest, command: string): Promise<UnlistedAnswer> {
    const target = `${request.host}:${request.port}`;
    const verdict: PolicyVerdict = {
      decision: 'ask',
      ruleId: 'network.unlisted',
      reason: `${request.reason}; the request leaves the sandbox, so a human decides`,
      labels: [`network: ${target} is not on the allow-list`],
    };
    const proposal = await gate.propose<NetworkProposal>(
      {
        kind: 'network',
        origin: 'egress/proxy',
        title: `Network: ${request.method} ${target}`,
        host: request.host,
        port: request.port,
        method: request.method,
        command,
        requestedBy: request.action.kind,
      },
      { verdict },
    );
    const refused = (why: string): UnlistedAnswer => ({
      approved: false,
      rule: 'network.ask',
      reason: `${target} is not on the policy's network allow-list and was not approved: ${why} (proposal ${proposal.id})`,
      command,
      approval: proposal.id,
    });
    let decided;
    try {
      decided = await gate.decide(proposal);
    } catch (error) {
      return refused(error instanceof Error ? error.message : String(error));
    }
    const store = (state: 'applied' | 'rejected', detail: string): void => {
      try {
        gate.setProposalState(proposal.id, state, detail);
      } catch {
        // Orphaned meanwhile: the answer stands as decided.
      }
    };
    if (decided.verdict !== 'approve') {
      const who = decided.reviewer.kind === 'human' ? `${decided.reviewer.name} rejected it` : `rejected by ${decided.reviewer.name}`;
      store('rejected', decided.reason ?? who);
      return refused(`${who}${decided.reason ? ` (${decided.reason})` : ''}`);
    }
    gate.grantHost(target, proposal.id);
    store('applied', 'the connection went through (later requests to it in this session do not ask again)');
    return { approved: true, rule: 'network.ask', reason: 'approved', command, approval: proposal.id };
  }

  /** The command behind a request: the approved command whose credential it carries, else the session's running commands, else "unknown". */
  private commandOf(request: UnlistedRequest): string {
    const proposals = this.deps.proposals().filter((p) => p.sessionId === this.deps.sessionId);
    if (request.action.kind === 'command') {
      const { proposalId } = request.action;
      const own = proposals.find((p) => p.id === proposalId);
      return own?.kind === 'command' ? own.commandLine : `unknown (proposal ${proposalId})`;
    }
    const running = proposals.filter((p) => p.kind === 'command' && p.state === 'approved');
    if (running.length === 0) return 'unknown';
    return running.map((p) => (p.kind === 'command' ? p.commandLine : p.title)).join(' | ');
  }
}
