import { Emitter } from '../util/events';
import { isFinal } from './finalStates';
import type { Decision, Proposal, ProposalState } from './model';

export class ProposalNotFoundError extends Error {
  constructor(readonly proposalId: string) {
    super(`No proposal with id ${proposalId}`);
  }
}

export class ProposalNotPendingError extends Error {
  constructor(
    readonly proposalId: string,
    readonly state: ProposalState,
  ) {
    super(`Proposal ${proposalId} is ${state}, not pending; it cannot be decided again`);
  }
}

/** Why a wait for a decision ended without one: the proposal can never be applied. */
export class ProposalOrphanedError extends Error {
  constructor(
    readonly proposalId: string,
    reason: string,
  ) {
    super(reason);
  }
}

interface Waiter {
  resolve(decision: Decision): void;
  reject(error: Error): void;
}

/**
 * Holds every proposal of the window and hands decisions to whoever waits for them.
 * The store never applies anything itself: the session that made a proposal does, after
 * `waitForDecision` resolves, so a decision without a live session applies nothing.
 */
export class ProposalStore {
  private readonly proposals = new Map<string, Proposal>();
  private readonly waiters = new Map<string, Waiter>();
  private readonly changed = new Emitter<Proposal>();
  readonly onDidChange = this.changed.event;
  /** `all()` in order, until the next change: every listener of a change asks for it (issue 21). */
  private ordered: Proposal[] | undefined;

  add(proposal: Proposal): Proposal {
    this.proposals.set(proposal.id, proposal);
    this.ordered = undefined;
    this.changed.fire(proposal);
    return proposal;
  }

  get(id: string): Proposal | undefined {
    return this.proposals.get(id);
  }

  all(): Proposal[] {
    // ISO timestamps of one format compare as plain strings (localeCompare costs an ICU call each).
    this.ordered ??= [...this.proposals.values()].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
    return [...this.ordered];
  }

  pending(): Proposal[] {
    return this.all().filter((p) => p.state === 'pending');
  }

  /** Resolves with the reviewer's decision; rejects if the proposal is orphaned first. */
  waitForDecision(id: string): Promise<Decision> {
    const proposal = this.require(id);
    if (proposal.decision && proposal.state !== 'pending') return Promise.resolve(proposal.decision);
    // Orphaned before its session started waiting (the session ended in between): never wait forever.
    if (proposal.state === 'orphaned') return Promise.reject(new ProposalOrphanedError(id, proposal.stateDetail ?? 'the session ended'));
    return new Promise<Decision>((resolve, reject) => this.waiters.set(id, { resolve, reject }));
  }

  /** Records a reviewer's decision on a pending proposal and wakes its session. */
  decide(id: string, decision: Decision): Proposal {
    const proposal = this.require(id);
    if (proposal.state !== 'pending') throw new ProposalNotPendingError(id, proposal.state);
    const updated = this.update(id, {
      decision,
      state: decision.verdict === 'approve' ? 'approved' : 'rejected',
    });
    const waiter = this.waiters.get(id);
    this.waiters.delete(id);
    waiter?.resolve(decision);
    return updated;
  }

  /** Moves a proposal to a new state (applied, failed, stale...) with an explanation. */
  setState(id: string, state: ProposalState, stateDetail?: string, extra: Partial<Proposal> = {}): Proposal {
    return this.update(id, { ...extra, state, ...(stateDetail === undefined ? {} : { stateDetail }) });
  }

  /** Marks every undecided proposal of a session orphaned: nothing will ever apply them. */
  orphanSession(sessionId: string, reason: string): void {
    for (const proposal of this.all()) {
      if (proposal.sessionId !== sessionId || isFinal(proposal.state)) continue;
      if (proposal.state === 'approved') continue; // already being applied by its session
      this.update(proposal.id, { state: 'orphaned', stateDetail: reason });
      const waiter = this.waiters.get(proposal.id);
      this.waiters.delete(proposal.id);
      waiter?.reject(new ProposalOrphanedError(proposal.id, reason));
    }
  }

  dispose(): void {
    for (const [id, waiter] of this.waiters) waiter.reject(new ProposalOrphanedError(id, 'Warden was shut down'));
    this.waiters.clear();
    this.changed.dispose();
  }

  private update(id: string, patch: Partial<Proposal>): Proposal {
    const current = this.require(id);
    const updated = { ...current, ...patch } as Proposal;
    this.proposals.set(id, updated);
    this.ordered = undefined;
    this.changed.fire(updated);
    return updated;
  }

  private require(id: string): Proposal {
    const proposal = this.proposals.get(id);
    if (!proposal) throw new ProposalNotFoundError(id);
    return proposal;
  }
}
