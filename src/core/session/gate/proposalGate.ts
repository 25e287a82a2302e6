import { randomUUID } from 'node:crypto';
import type { EffectivePolicy, PolicyVerdict } from '../../policy';
import type { CommandProposal, Decision, EditProposal, Proposal, QuestionProposal } from '../../proposals/model';
import { applyApproved } from './apply';
import { Grants, type WriteGrant } from './grants';
import { gitRefusal, readRefusal, recheckEditedCommand, recordRefused, scopeRefusal } from './refusals';
import {
  DEFAULT_DECISION_TIMEOUT_MS,
  type ApplyOptions,
  type ApplyOutcome,
  type AskOutcome,
  type Birth,
  type EditedCommandOutcome,
  type GateDeps,
  type GateRefusal,
  type ProposalFields,
  type RefusedEntry,
} from './types';
import {
  decision,
  decisionAuditData,
  evaluateFailClosed,
  grantDecision,
  grantFits,
  policyDecision,
  proposalAuditData,
  reviewerActor,
  timeoutDecision,
} from './verdicts';

/**
 * The one path every proposal takes, whatever its origin (an ACP request, a Codex approval,
 * a change in the sandbox copy): minted here, judged by the policy (failing closed), waited
 * on with one timeout rule, applied with the stale and reviewed-bytes checks, and audited
 * the same way. The protocol modules only map their messages to it and back.
 */
export class ProposalGate {
  private readonly grants = new Grants();
  /** Proposal id -> the permission request whose approval it carries out. */
  private readonly grantedBy = new Map<string, string>();

  constructor(private readonly deps: GateDeps) {}

  /** The effective policy now, if the session has one. */
  currentPolicy(): EffectivePolicy | undefined {
    return this.deps.policy?.();
  }

  /** The policy's verdict, or undefined without a policy. A policy that throws asks: it never allows. */
  evaluate(judge: (policy: EffectivePolicy) => PolicyVerdict): PolicyVerdict | undefined {
    return evaluateFailClosed(this.deps.policy, judge);
  }

  /** Mints a proposal (the only place ids are made), adds it to the store and audits it. */
  async propose<P extends Proposal>(fields: ProposalFields<P>, birth: Birth = {}): Promise<P> {
    const permission = birth.grantedBy ? this.deps.store.get(birth.grantedBy) : undefined;
    const granted = birth.grantedBy && grantFits(permission, fields) ? birth.grantedBy : undefined;
    const born =
      birth.orphaned !== undefined
        ? undefined
        : granted
          ? grantDecision(granted, permission?.decision, permission?.title)
          : birth.grantedBy
            ? undefined // accepted with changes against another base: a human decides again
            : (birth.decided ?? policyDecision(birth.verdict));
    const state = birth.orphaned !== undefined ? 'orphaned' : born ? (born.verdict === 'approve' ? 'approved' : 'rejected') : 'pending';
    const turn = this.deps.turn?.();
    const proposal = {
      ...fields,
      ...(birth.verdict ? { policy: birth.verdict } : {}),
      ...(turn !== undefined ? { turn } : {}),
      id: `p-${randomUUID()}`,
      sessionId: this.deps.sessionId,
      createdAt: new Date().toISOString(),
      state,
      ...(birth.orphaned !== undefined ? { stateDetail: birth.orphaned } : born ? { decision: born } : {}),
    } as P;
    if (granted) this.grantedBy.set(proposal.id, granted);
    this.deps.store.add(proposal);
    await this.deps.record({ actor: this.deps.agentActor(), type: 'proposal', data: proposalAuditData(proposal) });
    return proposal;
  }

  /**
   * The decision on a proposal (born decided, or a human's), audited with who made it. When
   * nobody decides within the timeout, Warden rejects: a timeout never approves. Rejects with
   * ProposalOrphanedError when the session ends first.
   */
  async decide(proposal: Proposal): Promise<Decision> {
    const decided = await this.waitForDecision(proposal.id);
    const grantedBy = this.grantedBy.get(proposal.id);
    this.grantedBy.delete(proposal.id);
    await this.deps.record({
      actor: reviewerActor(decided.reviewer),
      type: 'decision',
      data: decisionAuditData(proposal, decided, grantedBy),
    });
    return decided;
  }

  /** Applies an approved edit (stale check, re-diff, checkpoint, reviewed-bytes check); every outcome is audited. */
  apply(approved: EditProposal, options?: ApplyOptions): Promise<ApplyOutcome> {
    return applyApproved(this.deps, approved, options);
  }

  /** Asks the human a question; an answer comes back as text, a decline or a timeout as no answer (never a made-up one). */
  async ask(question: { question: string; choices?: string[] | undefined; origin: string }): Promise<AskOutcome> {
    const oneLine = question.question.replace(/\s+/g, ' ');
    const proposal = await this.propose<QuestionProposal>({
      kind: 'question',
      origin: question.origin,
      title: `Question: ${oneLine.length <= 80 ? oneLine : `${oneLine.slice(0, 79)}…`}`,
      question: question.question,
      ...(question.choices?.length ? { choices: question.choices } : {}),
    });
    const decided = await this.decide(proposal);
    if (decided.verdict === 'reject' || decided.answer === undefined) {
      this.deps.store.setState(proposal.id, 'rejected', decided.reason);
      const message = `${decided.reviewer.kind === 'human' ? 'The human declined to answer' : 'No answer'}${decided.reason ? `: ${decided.reason}` : ''}`;
      return { answered: false, proposalId: proposal.id, message };
    }
    this.deps.store.setState(proposal.id, 'applied', undefined, { answer: decided.answer });
    return { answered: true, answer: decided.answer };
  }

  /** Audits a request refused before any proposal exists. */
  refuse(entry: RefusedEntry): Promise<void> {
    return recordRefused(this.deps, entry);
  }

  /** A change found after the fact (in the sandbox copy) outside the session's scope: born rejected, naming the rule. */
  async scopeDecision(path: string): Promise<Decision | undefined> {
    const verdict = await this.deps.scope?.checkWrite(path);
    if (!verdict || verdict.allowed) return undefined;
    return decision('reject', { kind: 'warden', name: verdict.rule, source: 'session scope' }, verdict.reason);
  }

  checkScope(path: string, action: string): Promise<GateRefusal | undefined> {
    return scopeRefusal(this.deps, path, action);
  }

  checkGitCommand(command: string | readonly string[]): Promise<GateRefusal | undefined> {
    return gitRefusal(this.deps, command);
  }

  checkRead(path: string): Promise<GateRefusal | undefined> {
    return readRefusal(this.deps, path);
  }

  /** The reviewer's edited command, judged again by the branch guard and the policy. */
  recheckEditedCommand(
    proposal: CommandProposal,
    commandLine: string,
    resolvePath: (raw: string) => string | null,
  ): Promise<EditedCommandOutcome> {
    return recheckEditedCommand(this.deps, proposal, commandLine, resolvePath);
  }

  grantWrite(grant: WriteGrant): void {
    this.grants.grantWrite(grant);
  }

  grantCommand(commandLine: string, proposalId: string): void {
    this.grants.grantCommand(commandLine, proposalId);
  }

  /** An approved request to an unlisted host:port covers later requests to it in this session. */
  grantHost(hostPort: string, proposalId: string): void {
    this.grants.grantHost(hostPort, proposalId);
  }

  hostGrant(hostPort: string): string | undefined {
    return this.grants.hostGrant(hostPort);
  }

  /** Takes (once) the approval of a permission request for exactly these bytes at this path. */
  takeWriteGrant(path: string, newHash: string): WriteGrant | undefined {
    return this.grants.takeWrite(path, newHash);
  }

  takeCommandGrant(commandLine: string): { proposalId: string } | undefined {
    return this.grants.takeCommand(commandLine);
  }

  /** Moves a decided proposal on (applied, rejected) with an explanation. */
  setProposalState(id: string, state: 'applied' | 'rejected', detail: string): void {
    this.deps.store.setState(id, state, detail);
  }

  /** The proposal as the store holds it now. */
  current<P extends Proposal>(id: string): P {
    const proposal = this.deps.store.get(id);
    if (!proposal) throw new Error(`Proposal ${id} disappeared`);
    return proposal as P;
  }

  private async waitForDecision(proposalId: string): Promise<Decision> {
    const timeoutMs = this.deps.decisionTimeoutMs ?? DEFAULT_DECISION_TIMEOUT_MS;
    const timer = setTimeout(() => {
      if (this.deps.store.get(proposalId)?.state !== 'pending') return;
      this.deps.store.decide(proposalId, timeoutDecision(timeoutMs));
    }, timeoutMs);
    try {
      return await this.deps.store.waitForDecision(proposalId);
    } finally {
      clearTimeout(timer);
    }
  }
}
