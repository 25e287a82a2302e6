import { strict as assert } from 'node:assert';
import type { Proposal } from '../../../src/core/proposals/model';
import type { RiskLabel } from '../../../src/core/proposals/riskLabel';
import { ProposalStore } from '../../../src/core/proposals/store';
import { SentItems } from '../../../src/core/util/sentItems';
import {
  parseExtensionMessage,
  toProposalView,
  type ExtensionMessage,
  type StateDeltaMessage,
  type StateMessage,
} from '../../../src/shared/reviewProtocol';
import { initialState, restoreUi, type ReviewState } from '../../../media/review/state';
import { update } from '../../../media/review/update';
import { command, oneHunkEdit, openPanel, twoHunkEdit } from './reviewFixtures';

/**
 * Issue 21: the Review panel gets a full `state` when its document loads and a `delta` (what
 * changed) after that. The host side here is the panel's own bookkeeping (SentItems over the
 * store's proposals, risk labels of the changed ones); the webview side is its pure reducer,
 * and the end state must equal what a full snapshot of the same store gives.
 */
class Host {
  private readonly sent = new SentItems<Proposal>();
  /** What the panel shows: the store's proposals, less any the test hides (the store itself never forgets one). */
  hidden = new Set<string>();
  constructor(readonly store: ProposalStore) {}

  private all(): Proposal[] {
    return this.store.all().filter((p) => !this.hidden.has(p.id));
  }

  full(): StateMessage {
    const all = this.all();
    return {
      type: 'state',
      proposals: all.map(toProposalView),
      risks: risks(all),
      hunkChoices: {},
      mode: 'action',
      turns: [],
      ...this.sent.full(all),
    };
  }

  delta(): StateDeltaMessage {
    const { upsert, ...delta } = this.sent.delta(this.all());
    return {
      type: 'delta',
      ...delta,
      upsert: upsert.map(toProposalView),
      risks: risks(upsert),
      hunkChoices: {},
      mode: 'action',
      turns: [],
    };
  }
}

/** Stands in for the policy's labels: every command is irreversible, so the command carries one. */
function risks(proposals: Proposal[]): Record<string, RiskLabel[]> {
  const label: RiskLabel = { kind: 'irreversible', label: 'irreversible', reason: 'a command' };
  return Object.fromEntries(proposals.filter((p) => p.kind === 'command').map((p) => [p.id, [label]]));
}

/** Sends a message through the zod contract, as the webview receives it, and applies it. */
function receive(state: ReviewState, message: ExtensionMessage): { state: ReviewState; effects: unknown[] } {
  const parsed = parseExtensionMessage(JSON.parse(JSON.stringify(message)));
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  const step = update(state, { type: 'message', message: parsed.message });
  return { state: step.state, effects: step.effects ?? [] };
}

const fresh = (): ReviewState => initialState(restoreUi(undefined));

describe('Review webview: deltas after the first snapshot (issue 21)', () => {
  it('adds, changes and removals applied as deltas end where a full snapshot of the same store does', () => {
    const store = new ProposalStore();
    const host = new Host(store);
    store.add(twoHunkEdit(1));
    store.add(command(2, { commandLine: 'rm -rf build' }));
    let { state } = receive(fresh(), host.full());
    const first = state.proposals?.[0];

    store.add(oneHunkEdit(3));
    store.setState('c-2', 'rejected', 'no');
    const delta = host.delta();
    assert.deepEqual(
      delta.upsert.map((p) => p.id),
      ['c-2', 'p-3'],
      'only what changed travels',
    );
    assert.deepEqual(delta.remove, []);
    ({ state } = receive(state, delta));
    assert.equal(state.proposals?.[0], first, 'an unchanged proposal keeps its object (its card is not redrawn)');

    host.hidden.add('p-1');
    const removal = host.delta();
    assert.deepEqual(removal.remove, ['p-1']);
    assert.deepEqual(removal.upsert, []);
    ({ state } = receive(state, removal));

    const reference = new Host(store);
    reference.hidden.add('p-1');
    const full = receive(fresh(), reference.full()).state;
    assert.deepEqual(state.proposals, full.proposals);
    assert.deepEqual(state.risks, full.risks);
    assert.ok(state.risks['c-2'], 'the changed command keeps its risk labels');
  });

  it('a new proposal created before others (a saved one loaded late) takes its place by creation time', () => {
    const store = new ProposalStore();
    const host = new Host(store);
    store.add(oneHunkEdit(5));
    let { state } = receive(fresh(), host.full());
    store.add(oneHunkEdit(2));
    store.add(oneHunkEdit(9));
    ({ state } = receive(state, host.delta()));
    assert.deepEqual(
      state.proposals?.map((p) => p.id),
      store.all().map((p) => p.id),
    );
  });

  it('a delta that follows another state than the one held is dropped, and the panel asks for a full state once', () => {
    const store = new ProposalStore();
    const host = new Host(store);
    store.add(oneHunkEdit(1));
    let { state } = receive(fresh(), host.full());
    store.add(oneHunkEdit(2));
    host.delta(); // lost: the document was reloaded in between
    store.add(oneHunkEdit(3));
    let step = receive(state, host.delta());
    assert.deepEqual(step.effects, [{ type: 'post', message: { type: 'ready' } }]);
    assert.deepEqual(
      step.state.proposals?.map((p) => p.id),
      ['p-1'],
      'nothing half-applied',
    );
    state = step.state;
    store.add(oneHunkEdit(4));
    step = receive(state, host.delta());
    assert.deepEqual(step.effects, [], 'asked already: no second request');
    ({ state } = receive(step.state, host.full()));
    assert.deepEqual(
      state.proposals?.map((p) => p.id),
      ['p-1', 'p-2', 'p-3', 'p-4'],
    );
    store.add(oneHunkEdit(5));
    ({ state } = receive(state, host.delta()));
    assert.equal(state.proposals?.length, 5, 'in step again after the full state');
  });

  it('a delta before any snapshot is ignored (the document asked for one when it loaded)', () => {
    const store = new ProposalStore();
    const host = new Host(store);
    host.full();
    store.add(oneHunkEdit(1));
    const step = receive(fresh(), host.delta());
    assert.equal(step.state.proposals, undefined);
    assert.deepEqual(step.effects, []);
  });

  it('the contract refuses a delta with a malformed proposal or without its base', () => {
    const store = new ProposalStore();
    const host = new Host(store);
    host.full();
    store.add(oneHunkEdit(1));
    const delta = JSON.parse(JSON.stringify(host.delta())) as Record<string, unknown>;
    assert.equal(parseExtensionMessage({ ...delta, upsert: [{ kind: 'edit' }] }).ok, false);
    const { base: _base, ...noBase } = delta;
    assert.equal(parseExtensionMessage(noBase).ok, false);
  });

  it('the mounted panel draws a card a delta adds and drops one a delta removes', () => {
    const panel = openPanel();
    const one = toProposalView(oneHunkEdit(1));
    const two = toProposalView(command(2));
    panel.send({ type: 'state', proposals: [one], rev: 1 });
    panel.send({ type: 'delta', base: 1, rev: 2, upsert: [two], remove: [] });
    assert.ok(panel.card('c-2'));
    panel.send({ type: 'delta', base: 2, rev: 3, upsert: [], remove: ['p-1'] });
    assert.throws(() => panel.card('p-1'));
    assert.ok(panel.card('c-2'));
  });
});
